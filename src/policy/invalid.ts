import { WardenError } from '../core/errors.ts';

export type PathSegment = string | number;

/** `['rules', 2, 'limits', 0, 'window']` → `rules[2].limits[0].window`; the root is `(document)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) {
      out += out.length === 0 ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment)).slice(0, 80)}]`;
  }
  return out.length === 0 ? '(document)' : out;
}

/** The one error a bad policy document raises: POLICY_INVALID, its message starting with the path. */
export function policyInvalid(path: readonly PropertyKey[], message: string, extra = 0): WardenError {
  const where = formatPath(path);
  const more = extra > 0 ? ` (and ${extra} more problem${extra === 1 ? '' : 's'})` : '';
  return new WardenError('POLICY_INVALID', `${where}: ${message}${more}`, {
    path: where,
    problems: extra + 1,
  });
}
