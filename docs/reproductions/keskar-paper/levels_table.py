# The keskar paper run's loss-level measurements as a table (docs/REPRODUCTIONS.md): mean ± sample std over
# the seeds per level and batch size, read from the study store with SQLite alone.
# Usage: python3 docs/reproductions/keskar-paper/levels_table.py STORE.db
import sqlite3, json, sys, statistics as st
db = sqlite3.connect(sys.argv[1])
rows = db.execute("""select json_extract(t.config,'$.batchSize'), json_extract(t.config,'$.seed'), m.kind, m.spec, m.result, t.result from measurement_jobs m join trials t using(study,key) where m.status='completed' and json_extract(m.spec,'$.level') is not null""").fetchall()
data = {}
for b, seed, kind, spec, result, tres in rows:
    spec = json.loads(spec); r = json.loads(result); level = spec['level']
    obj = 'K' if 'objective' in spec else 'R'
    tl = next(x for x in json.loads(tres)['lossLevels'] if x['level'] == level)
    d = data.setdefault((level, b), {})
    d.setdefault('loss', {})[seed] = tl['trainLoss']; d.setdefault('epoch', {})[seed] = tl['epoch']
    if kind == 'hessian': d.setdefault(f'lam{obj}', {})[seed] = r['eigenvalues'][0]
    else:
        for v in r['values']:
            if v['space'] == 'full' and v['epsilon'] == 0.001: d.setdefault(f"phi{obj}{v['solver'][0]}", {})[seed] = v['phi']
            if v['space'] != 'full' and v['epsilon'] == 0.001: d.setdefault(f"sub{obj}{v['solver'][0]}", {})[seed] = v['phi']
def f(x):
    return f'{x:.3g}' if abs(x) < 1000 else f'{x:,.0f}'
def cell(dd):
    if not dd: return '–'
    xs = list(dd.values())
    if len(xs) == 1: return f(xs[0]) + ' (n = 1)'
    return f'{f(st.mean(xs))} ± {f(st.stdev(xs))}' + ('' if len(xs) == 3 else f' (n = {len(xs)})')
cols = ['loss', 'lamR', 'lamK', 'phiRp', 'phiRl', 'phiKp', 'phiKl', 'subKl']
print('| level | B | epoch | training loss (10,000) | λ_max running | λ_max Keskar\'s | φ running, projected | φ running, L-BFGS-B | φ Keskar\'s, projected | φ Keskar\'s, L-BFGS-B | φ(1e-3, p = 100) Keskar\'s, L-BFGS-B |')
print('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
for (level, b), d in sorted(data.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
    ep = sorted(set(d['epoch'].values()))
    print(f"| {level} | {b} | {', '.join(str(int(e)) for e in ep)} | " + ' | '.join(cell(d.get(c, {})) for c in cols) + ' |')
