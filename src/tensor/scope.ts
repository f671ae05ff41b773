/**
 * The stack of open memory scopes (see tidy() in memory.ts). Kept apart from memory.ts so
 * that the Tensor class can register itself without importing the scope functions.
 */
export interface Disposable {
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];
/** Which scope holds a tensor, so that keep() and tidy's result hand-over are O(1). */
const owner = new WeakMap<Disposable, Set<Disposable>>();

export function track(t: Disposable): void {
  const scope = scopes[scopes.length - 1];
  if (scope !== undefined) {
    scope.add(t);
    owner.set(t, scope);
  }
}

export function untrack(t: Disposable): void {
  const scope = owner.get(t);
  if (scope !== undefined) {
    scope.delete(t);
    owner.delete(t);
  }
}

export function openScope(): Set<Disposable> {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  return scope;
}

/** Closes the innermost scope, disposing what it holds except `survivors`, which move to the parent scope. */
export function closeScope(scope: Set<Disposable>, survivors: ReadonlySet<Disposable>): void {
  if (scopes[scopes.length - 1] !== scope) throw new Error('memory scopes closed out of order');
  scopes.pop();
  for (const t of scope) {
    owner.delete(t);
    if (survivors.has(t)) track(t);
    else t.dispose();
  }
  scope.clear();
}

export function scopeDepth(): number {
  return scopes.length;
}
