/**
 * The API's query parameters, checked before any work: a value outside what is allowed is a
 * BadRequest (answered 400 with its message), which names the parameter, the value and what is allowed.
 */
import { TRIAL_SORT_FIXED, type TrialStatus } from './api.js';
import { TRIAL_STATUSES } from '../study/records.js';
import type { TrialQuery } from './data.js';

const STATUSES: readonly TrialStatus[] = TRIAL_STATUSES;

export class BadRequest extends Error {}

/** A non-negative integer query parameter, bounded. */
export function intParam(value: string | undefined, name: string, fallback: number, max: number, min = 0): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new BadRequest(`${name}: '${value.slice(0, 40)}' is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new BadRequest(`${name}: ${n} is outside ${min}…${max}`);
  return n;
}

/** The trials table's query, checked against the study's axes (anything else is a 400 that says what is allowed). */
export function parseTrialQuery(params: URLSearchParams, axes: readonly string[]): TrialQuery {
  const status = params.getAll('status').flatMap((s) => s.split(',')).filter((s) => s !== '');
  for (const s of status) {
    if (!STATUSES.includes(s as TrialStatus)) throw new BadRequest(`status: '${s.slice(0, 40)}' is not one of ${STATUSES.join(', ')}`);
  }
  const filters = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (!name.startsWith('f.')) continue;
    const path = name.slice(2);
    if (!axes.includes(path)) {
      throw new BadRequest(`filter '${name.slice(0, 60)}': the study has no grid axis '${path.slice(0, 60)}' (axes: ${axes.join(', ') || 'none'})`);
    }
    filters.set(path, [...(filters.get(path) ?? []), value]);
  }
  const sort = params.get('sort') ?? 'key';
  const sortable = [...TRIAL_SORT_FIXED, ...axes.map((a) => `c.${a}`)];
  if (!sortable.includes(sort)) throw new BadRequest(`sort: '${sort.slice(0, 60)}' is not one of ${sortable.join(', ')}`);
  const dir = params.get('dir') ?? 'asc';
  if (dir !== 'asc' && dir !== 'desc') throw new BadRequest(`dir: '${dir.slice(0, 20)}' must be asc or desc`);
  return {
    status: status as TrialStatus[],
    filters: [...filters].map(([path, values]) => ({ path, values })),
    sort,
    descending: dir === 'desc',
    offset: intParam(params.get('offset') ?? undefined, 'offset', 0, 1e9),
    limit: intParam(params.get('limit') ?? undefined, 'limit', 50, 500, 1),
  };
}
