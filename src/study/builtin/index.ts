/** The built-in studies: the four papers sgdlab is built on (SCIENCE.md §6), each in three sizes. Needs no addon. */
import { ConfigError } from '../../train/config.js';
import { parseStudy, type Study } from '../schema.js';
import { keskar } from './keskar.js';
import { keskarRemedies } from './keskar-remedies.js';
import { smith } from './smith.js';
import { ziyin } from './ziyin.js';
import { qianKlabjan } from './qian-klabjan.js';
import { BUILTIN_SIZES, sizesOf, type BuiltinSize, type BuiltinStudy } from './types.js';

export * from './types.js';
export { ZIYIN_2D_COVARIANCE } from './ziyin.js';

export const BUILTIN_STUDIES: readonly BuiltinStudy[] = [keskar, keskarRemedies, smith, ziyin, qianKlabjan];

export function builtinStudy(name: string, size: string = 'quick'): Study {
  const found = BUILTIN_STUDIES.find((b) => b.name === name);
  if (!found) throw new ConfigError([`--builtin: '${name}' is not a built-in study; built-in studies: ${BUILTIN_STUDIES.map((b) => b.name).join(', ')}`], 'sgdlab run');
  const extra = found.extraSizes ?? {};
  const make = BUILTIN_SIZES.includes(size as BuiltinSize) ? found.sizes[size as BuiltinSize] : Object.hasOwn(extra, size) ? extra[size] : undefined;
  if (!make) throw new ConfigError([`--size: '${size}' must be one of ${sizesOf(found).join(', ')}`], 'sgdlab run');
  return parseStudy(make(), `built-in study ${name} (${size})`);
}
