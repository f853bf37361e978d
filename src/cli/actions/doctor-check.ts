/** One line of `warden doctor`: PASS, WARN or FAIL, with what to do about it. */
export type Status = 'PASS' | 'WARN' | 'FAIL';

export interface Check {
  id: string;
  status: Status;
  message: string;
  fix?: string;
}

export const pass = (id: string, message: string): Check => ({ id, status: 'PASS', message });
export const warn = (id: string, message: string, fix: string): Check => ({
  id,
  status: 'WARN',
  message,
  fix,
});
export const fail = (id: string, message: string, fix: string): Check => ({
  id,
  status: 'FAIL',
  message,
  fix,
});
