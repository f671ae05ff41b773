/**
 * A Vega-Lite figure drawn by vega-embed: SVG renderer, tooltips (vega-tooltip), the export menu
 * (SVG/PNG) and nothing that links outside (no editor or source actions). Expressions run in Vega's
 * interpreter, not through `new Function`, so the page's Content-Security-Policy needs no
 * 'unsafe-eval'. `live` replaces the values of a named data set in the drawn view (the trial's growing
 * learning curves) without drawing it again, so zoom and legend selection stay. A figure is drawn
 * when it comes near the screen (a study page may hold a dozen; drawing them all before the first
 * shows would delay the page by seconds).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import embed, { type Result } from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import type { TopLevelSpec } from 'vega-lite';

export interface FigureProps {
  id: string;
  title: string;
  caption?: string;
  spec: TopLevelSpec;
  live?: { dataset: string; values: object[] };
}

export function VegaFigure({ id, title, caption, spec, live }: FigureProps) {
  const container = useRef<HTMLDivElement>(null);
  const view = useRef<Result | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const specText = JSON.stringify(spec);
  const [near, setNear] = useState(false);

  useEffect(() => {
    const target = container.current;
    if (!target || near) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        setNear(true);
        observer.disconnect();
      }
    }, { rootMargin: '400px 0px' });
    observer.observe(target);
    return () => observer.disconnect();
  }, [near]);

  useEffect(() => {
    let cancelled = false;
    const target = container.current;
    if (!target || !near) return;
    embed(target, spec, {
      renderer: 'svg',
      actions: { export: true, source: false, compiled: false, editor: false },
      ast: true,
      expr: expressionInterpreter,
      downloadFileName: id,
      tooltip: { theme: 'light' },
    }).then(
      (result) => {
        if (cancelled) result.finalize();
        else {
          view.current = result;
          setError(undefined);
        }
      },
      (e: Error) => !cancelled && setError(e.message),
    );
    return () => {
      cancelled = true;
      view.current?.finalize();
      view.current = undefined;
    };
  }, [specText, near]);

  useEffect(() => {
    if (!live || !view.current) return;
    void view.current.view.data(live.dataset, live.values).runAsync();
  }, [live]);

  return (
    <figure class="figure" id={`figure-${id}`} data-figure={id}>
      <div class="figure-view" ref={container} style={near ? undefined : { minHeight: '300px', minWidth: '460px' }} />
      {error !== undefined && <p class="error">This figure could not be drawn: {error}</p>}
      <figcaption>
        <strong>{title}.</strong> {caption}
      </figcaption>
    </figure>
  );
}
