/**
 * zod's issues as 'field: message (got value)', for every error about bad input (configurations,
 * study files, stored records). Imports zod only, so that any layer, and the dashboard's client
 * type check, can use it.
 */
import type { z } from 'zod';

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

export function describeIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    const got = valueAt(input, issue.path);
    const shown = got === undefined ? 'nothing' : JSON.stringify(got);
    if (issue.code === 'unrecognized_keys') return `${field}: unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    if (issue.code === 'invalid_type' && got === undefined) return `${field}: missing (expected ${issue.expected})`;
    return `${field}: ${issue.message} (got ${shown})`;
  });
}

