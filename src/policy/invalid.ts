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

export interface PolicyProblem {
  path: readonly PropertyKey[];
  message: string;
}

/** A bad document can have many problems; this many are listed in full (the count is exact). */
export const MAX_LISTED_PROBLEMS = 50;

/**
 * The one error a bad policy document raises: POLICY_INVALID, its message starting with the path
 * of the first problem. `others` are the rest: counted in the message and, with the first, listed
 * one per line in `details.problemList` (what the CLI prints), so one run shows every fix to make.
 */
export function policyInvalid(
  path: readonly PropertyKey[],
  message: string,
  others: readonly PolicyProblem[] = [],
): WardenError {
  const where = formatPath(path);
  const extra = others.length;
  const more = extra > 0 ? ` (and ${extra} more problem${extra === 1 ? '' : 's'})` : '';
  const details: Record<string, string | number> = { path: where, problems: extra + 1 };
  if (extra > 0) {
    const all = [{ path, message }, ...others].slice(0, MAX_LISTED_PROBLEMS);
    const lines = all.map((p) => `${formatPath(p.path)}: ${p.message}`);
    if (extra + 1 > MAX_LISTED_PROBLEMS) lines.push(`… and ${extra + 1 - MAX_LISTED_PROBLEMS} more`);
    details.problemList = lines.join('\n');
  }
  return new WardenError('POLICY_INVALID', `${where}: ${message}${more}`, details);
}
