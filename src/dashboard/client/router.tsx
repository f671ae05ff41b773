/**
 * Routing by the address bar's path (so every page has a URL to share or reload): /, /studies/NAME,
 * /studies/NAME/trials/KEY. Links change the page without reloading it.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'studies' } | { page: 'study'; name: string } | { page: 'trial'; name: string; key: string } | { page: 'missing'; path: string };

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

export function parseRoute(path: string): Route {
  const parts = path.split('/').filter((p) => p !== '');
  const names = parts.map(decode);
  if (names.some((n) => n === undefined)) return { page: 'missing', path };
  if (parts.length === 0) return { page: 'studies' };
  if (parts[0] === 'studies' && parts.length === 2) return { page: 'study', name: names[1]! };
  if (parts[0] === 'studies' && parts.length === 4 && parts[2] === 'trials') return { page: 'trial', name: names[1]!, key: names[3]! };
  return { page: 'missing', path };
}

const listeners = new Set<() => void>();

export function navigate(href: string): void {
  history.pushState(null, '', href);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return parseRoute(path);
}

export function Link({ href, children, ...rest }: { href: string; children: ComponentChildren; class?: string; tabIndex?: number }) {
  return (
    <a
      href={href}
      {...rest}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
