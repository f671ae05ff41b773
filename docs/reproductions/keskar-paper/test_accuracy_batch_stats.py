# Table 2's test accuracies under the paper's own evaluation convention, beside sgdlab's (docs/REPRODUCTIONS.md).
# Keskar et al.'s Keras 1 code builds batch norm as BatchNormalization(mode=2), which normalizes by the
# statistics of the batch being evaluated at test time too, and evaluates with model.evaluate(X_test, Y_test,
# batch_size=5000) (plot_parametric_plot.py in github.com/keskarnitish/large-batch-training). sgdlab's stored
# test accuracy uses batch norm's running statistics. For every trained minimum of the run this prints both,
# and the test accuracy with batch statistics of the whole test set as one batch: `sgdlab measure interpolate`
# at α = 0 between the checkpoint and itself, on the test split (--batch-norm batch --batch-norm-batch N).
# Then the same for SB's and LB's loss-level checkpoints (the first time the training loss on 10,000 examples
# fell below 0.01, 0.003, 0.001: the paper's training accuracies), whose running-statistics test accuracy the
# trial's result stores.
# Usage: python3 docs/reproductions/keskar-paper/test_accuracy_batch_stats.py STORE.db [SGDLAB_CLI]
import json, os, sqlite3, statistics as st, subprocess, sys
db = sqlite3.connect(sys.argv[1])
cli = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), '..', '..', '..', 'dist', 'src', 'cli', 'main.js')
rows = db.execute("""select json_extract(config,'$.batchSize'), json_extract(config,'$.seed'), checkpoint, json_extract(result,'$.test.accuracy'),
                     json_extract(result,'$.lossLevels') from trials where study='keskar' and status='completed' order by 1, 2""").fetchall()

def batch_stat_accuracy(d, batch):
    out = subprocess.run(['node', cli, 'measure', 'interpolate', '--checkpoint', d, '--other', d, '--split', 'test', '--from', '0', '--to', '1',
                          '--points', '2', '--batch-norm', 'batch', '--batch-norm-batch', batch, '--json'], check=True, capture_output=True, text=True).stdout
    return json.loads(out)['points'][0]['test']['accuracy']

cols = {'running': {}, '5000': {}, 'all': {}}
print('| B | seed | running statistics | batch statistics, batches of 5,000 (Keskar\'s code) | batch statistics, one batch of 10,000 |')
print('|---:|---:|---:|---:|---:|')
for b, seed, checkpoint, running, _ in rows:
    d = os.path.dirname(checkpoint)  # the stored path is the checkpoint's model.safetensors
    per = {'running': running, '5000': batch_stat_accuracy(d, '5000'), 'all': batch_stat_accuracy(d, 'all')}
    for k, v in per.items(): cols[k].setdefault(b, []).append(100 * v)
    print(f"| {b} | {seed} | {100 * per['running']:.2f} | {100 * per['5000']:.2f} | {100 * per['all']:.2f} |")
print()
print('| B | running statistics | batches of 5,000 | one batch of 10,000 |')
print('|---:|---:|---:|---:|')
for b in cols['running']:
    print(f'| {b} | ' + ' | '.join(f'{st.mean(cols[k][b]):.2f} ± {st.stdev(cols[k][b]):.2f}' for k in cols) + ' |')

print()
print('| level | B | seed | epoch | training loss (10,000) | running statistics | batches of 5,000 |')
print('|---:|---:|---:|---:|---:|---:|---:|')
levels = {}
for b, seed, _, _, loss_levels in rows:
    for entry in json.loads(loss_levels or '[]'):
        if entry['level'] not in (0.01, 0.003, 0.001): continue
        keskar = batch_stat_accuracy(entry['checkpoint'], '5000')
        levels.setdefault((entry['level'], b), []).append((100 * entry['testAccuracy'], 100 * keskar))
        print(f"| {entry['level']} | {b} | {seed} | {entry['epoch']} | {entry['trainLoss']:.4f} | {100 * entry['testAccuracy']:.2f} | {100 * keskar:.2f} |")
print()
print('| level | B | running statistics | batches of 5,000 |')
print('|---:|---:|---:|---:|')
def mean_std(xs):
    return f'{st.mean(xs):.2f} ± {st.stdev(xs):.2f}' if len(xs) > 1 else f'{xs[0]:.2f} (n = 1)'
for (level, b), v in sorted(levels.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
    print(f'| {level} | {b} | {mean_std([r for r, _ in v])} | {mean_std([k for _, k in v])}' + ('' if len(v) == 3 else f' (n = {len(v)})') + ' |')
