import { WardenError } from '../core/errors.ts';
import { formatYamlPath, type YamlPath } from '../core/yaml.ts';

/** One thing wrong with a configuration: where (path in warden.yaml, line when known) and what. */
export interface ConfigProblem {
  path: YamlPath;
  message: string;
  line?: number | undefined;
}

/** A bad file can have many problems; this many are listed in full (the count is exact). */
export const MAX_LISTED_PROBLEMS = 50;

function problemLine(p: ConfigProblem): string {
  return `${formatYamlPath(p.path)}: ${p.message}${p.line === undefined ? '' : ` (line ${p.line})`}`;
}

/**
 * CONFIG_INVALID for a file: the message starts with the path of the first problem and names the
 * file (and line); every problem is listed one per line in `details.problemList` (the CLI prints it).
 */
export function configInvalid(file: string, problems: readonly ConfigProblem[]): WardenError {
  const [first, ...others] = problems;
  if (!first) throw new Error('configInvalid needs a problem');
  const more =
    others.length > 0 ? `; and ${others.length} more problem${others.length === 1 ? '' : 's'}` : '';
  const at = first.line === undefined ? file : `${file} line ${first.line}`;
  const details: Record<string, string | number> = {
    file,
    path: formatYamlPath(first.path),
    problems: problems.length,
  };
  if (first.line !== undefined) details.line = first.line;
  if (others.length > 0) {
    const lines = problems.slice(0, MAX_LISTED_PROBLEMS).map(problemLine);
    if (problems.length > MAX_LISTED_PROBLEMS)
      lines.push(`… and ${problems.length - MAX_LISTED_PROBLEMS} more`);
    details.problemList = lines.join('\n');
  }
  return new WardenError(
    'CONFIG_INVALID',
    `${formatYamlPath(first.path)}: ${first.message} (${at}${more})`,
    details,
  );
}

/** A bad command-line override is a usage error, named by its flag, with the same words. */
export function overrideInvalid(source: string, problems: readonly ConfigProblem[]): WardenError {
  const [first] = problems;
  if (!first) throw new Error('overrideInvalid needs a problem');
  return new WardenError('USAGE', `${source}: ${formatYamlPath(first.path)}: ${first.message}`, {
    flag: source,
    path: formatYamlPath(first.path),
  });
}
