/**
 * Vega-Lite specifications rendered in Node without a browser or a native canvas: vega-lite
 * compiles to Vega, Vega's headless View writes SVG (text widths are estimated without a canvas),
 * and resvg (its WebAssembly build, from npm) rasterizes the SVG to PNG with a font read from disk
 * (Debian's fonts-dejavu-core, installed by setup), since WebAssembly sees no system fonts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg, initWasm } from '@resvg/resvg-wasm';
import { FONT_FAMILY, figureConfig } from './figure-config.js';

export type { TopLevelSpec };

export { FONT_FAMILY, figureConfig } from './figure-config.js';
const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf'];

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega-lite's optimizer warnings ("Maximum optimization runs reached") say nothing about the figure: only errors are printed.
  const compiled = compile({ ...spec, config: { ...figureConfig, ...(spec.config ?? {}) } } as TopLevelSpec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let ready: Promise<Uint8Array> | undefined;

/** Loads resvg's WebAssembly module once, and the font; fails with what to install if the font is missing. */
function resvgReady(): Promise<Uint8Array> {
  ready ??= (async () => {
    const fontFile = FONT_FILES.find((f) => existsSync(f));
    if (!fontFile) throw new Error(`no font for PNG figures: install Debian's fonts-dejavu-core (looked for ${FONT_FILES.join(', ')}); scripts/setup.sh installs it`);
    const wasm = createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm');
    await initWasm(readFileSync(wasm));
    return new Uint8Array(readFileSync(fontFile));
  })();
  return ready;
}

/** A PNG of an SVG at `scale` times its size (2: sharp on high-density screens and in documents). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const font = await resvgReady();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { fontBuffers: [font], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  try {
    return resvg.render().asPng();
  } finally {
    resvg.free();
  }
}
