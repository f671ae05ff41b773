/**
 * Functions stay short enough to read in one view: none in src/ is longer than 80 lines, except where
 * the comment directly above it says why it must be one piece (`one piece:` and the reason), and at
 * most 3 of those in the whole tree. Functions are found by the TypeScript compiler's
 * parser: declarations, methods, accessors, constructors, function expressions and arrow functions,
 * nested ones too, each counted from the line it starts on to the line it ends on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { repoRoot, sourceFiles, srcDir } from './source-tree.js';

const MAX_LINES = 80;
const MAX_ONE_PIECE = 3;

interface LongFunction {
  /** 1-based line the function starts on. */
  line: number;
  name: string;
  lines: number;
  /** Why it must be one piece, from the comment directly above it; undefined when there is none. */
  onePiece?: string;
}

/** A function's name for the report: its own, the variable or property it is assigned to, or the call it is an argument of. */
function nameOf(node: ts.SignatureDeclaration): string {
  if (node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.initializer === node) return parent.name.getText();
  if (ts.isCallExpression(parent)) {
    const callee = parent.expression;
    return `(argument of ${ts.isPropertyAccessExpression(callee) ? callee.name.text : callee.getText()})`;
  }
  return '(anonymous)';
}

/**
 * The comment that ends on the line directly above `line` (0-based): a block or JSDoc comment, or a run
 * of line comments; undefined when that line is not the end of a comment.
 */
function commentAbove(lines: readonly string[], line: number): string | undefined {
  let i = line - 1;
  if (i < 0) return undefined;
  const above = lines[i]!.trim();
  if (above.startsWith('//')) {
    while (i > 0 && lines[i - 1]!.trim().startsWith('//')) i--;
    return lines.slice(i, line).join('\n');
  }
  if (!above.endsWith('*/')) return undefined;
  while (i > 0 && !lines[i]!.includes('/*')) i--;
  return lines.slice(i, line).join('\n');
}

/** The functions of a source text longer than `max` lines, with the reason they must be one piece where a comment gives one. */
function longFunctions(fileName: string, text: string, max: number): LongFunction[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const textLines = text.split('\n');
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const lines = file.getLineAndCharacterOfPosition(node.getEnd()).line - start + 1;
      if (lines > max) {
        const reason = /one piece:\s*(\S[^\n]*)/.exec(commentAbove(textLines, start) ?? '')?.[1]?.replace(/\s*\*\/$/, '');
        found.push({ line: start + 1, name: nameOf(node), lines, ...(reason ? { onePiece: reason } : {}) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

test(`no function in src/ is longer than ${MAX_LINES} lines, but at most ${MAX_ONE_PIECE} that say why they must be one piece`, () => {
  const files = sourceFiles(srcDir);
  assert.ok(files.length > 100, `${files.length} source files`);
  const all = files.flatMap((f) => longFunctions(f, readFileSync(f, 'utf8'), MAX_LINES).map((l) => ({ ...l, at: `${relative(repoRoot, f)}:${l.line}` })));
  const describe = (l: (typeof all)[number]) => `${l.at} ${l.name} (${l.lines} lines${l.onePiece ? `; one piece: ${l.onePiece}` : ''})`;
  const offenders = all.filter((l) => l.onePiece === undefined);
  assert.deepEqual(offenders.map(describe), [], `functions over ${MAX_LINES} lines: split them, or say above one why it must be one piece ('one piece: …')`);
  const exempt = all.filter((l) => l.onePiece !== undefined);
  assert.ok(exempt.length <= MAX_ONE_PIECE, `more than ${MAX_ONE_PIECE} functions over ${MAX_LINES} lines kept in one piece:\n${exempt.map(describe).join('\n')}`);
});

test('the length finder finds long functions, nested ones too, and reads the one-piece comment directly above only (a check that it can fail)', () => {
  // A function of n lines: its first line, n − 2 statements, its closing brace.
  const body = (n: number, indent = '  ') => Array.from({ length: n - 2 }, (_, i) => `${indent}step(${i});`).join('\n');
  const text = [
    `function exactly80() {\n${body(80)}\n}`, // lines 1–80: not over
    `export function long81(a: number) {\n${body(81)}\n}`, // lines 81–161
    `class C {\n  method() {\n    const inner = () => {\n${body(83, '      ')}\n    };\n  }\n}`, // class 162–248: method 163–247 (85 lines), arrow 164–246 (83)
    `/** one piece: the steps of the proof in order */\nconst proof = async () => {\n${body(90)}\n};`, // comment 249, arrow 250–339
    `// one piece:\nfunction noReason() {\n${body(81)}\n}`, // comment 340, function 341–421
    `/** one piece: not directly above */\n\nfunction gap() {\n${body(81)}\n}`, // comment 422, blank, 424–504
    `register(function () {\n${body(81)}\n});`, // 505–585
  ].join('\n');
  assert.equal(text.split('\n').length, 585);
  assert.deepEqual(longFunctions('example.ts', text, 80), [
    { line: 81, name: 'long81', lines: 81 },
    { line: 163, name: 'method', lines: 85 },
    { line: 164, name: 'inner', lines: 83 },
    { line: 250, name: 'proof', lines: 90, onePiece: 'the steps of the proof in order' },
    { line: 341, name: 'noReason', lines: 81 },
    { line: 424, name: 'gap', lines: 81 },
    { line: 505, name: '(argument of register)', lines: 81 },
  ]);
});
