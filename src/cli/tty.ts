import { concatBytes, wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = 0x7f;
const CTRL_H = 0x08;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Reads secret lines from a terminal as bytes, never as strings, with echo off (raw mode).
 * Bytes typed ahead of a prompt (or piped in one chunk) are kept for the next prompt.
 */
export class SecretLineReader {
  #pending: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WritableStream,
  ) {}

  async read(prompt: string): Promise<Uint8Array> {
    // Echo goes off before the prompt appears, so nothing typed in answer to it is ever echoed.
    const raw = this.input.isTTY === true;
    if (raw) this.input.setRawMode(true);
    this.output.write(prompt);
    this.input.resume();
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        let line: Uint8Array = new Uint8Array(0);
        const finish = (err: Error | null) => {
          this.input.off('data', onData);
          this.input.off('end', onEnd);
          this.output.write('\n');
          if (err) {
            wipe(line);
            reject(err);
          } else resolve(line);
        };
        const consume = (chunk: Uint8Array): boolean => {
          for (let i = 0; i < chunk.length; i++) {
            const b = chunk[i]!;
            if (b === CR || b === LF) {
              // Keep what follows the line end (a CRLF counts once) for the next prompt.
              const rest = chunk.subarray(b === CR && chunk[i + 1] === LF ? i + 2 : i + 1);
              const pending = new Uint8Array(rest);
              wipe(this.#pending);
              this.#pending = pending;
              finish(null);
              return true;
            }
            if (b === CTRL_C) {
              finish(new WardenError('USAGE', 'cancelled'));
              return true;
            }
            if (b === CTRL_D && line.length === 0) {
              finish(new WardenError('PASSPHRASE_REQUIRED', 'no passphrase entered'));
              return true;
            }
            if (b === BACKSPACE || b === CTRL_H) {
              const shorter = line.slice(0, Math.max(0, line.length - 1));
              wipe(line);
              line = shorter;
              continue;
            }
            const longer = concatBytes(line, Uint8Array.of(b));
            wipe(line);
            line = longer;
          }
          return false;
        };
        const onData = (chunk: Buffer) => {
          const done = consume(chunk);
          chunk.fill(0);
          if (done) this.input.pause();
        };
        const onEnd = () =>
          finish(line.length > 0 ? null : new WardenError('PASSPHRASE_REQUIRED', 'no passphrase entered'));
        const pending = this.#pending;
        this.#pending = new Uint8Array(0);
        const done = consume(pending);
        wipe(pending);
        if (done) return;
        this.input.on('data', onData);
        this.input.on('end', onEnd);
      });
    } finally {
      if (raw) this.input.setRawMode(false);
      this.input.pause();
    }
  }
}
