import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { visibleJson, visibleText } from '../../src/core/display.ts';

/** What may hide or rewrite text on a terminal: none of it may reach an approver's screen raw. */
const HIDING = [
  '\u001b', // ESC: terminal escape sequences
  '\u009b', // CSI
  '\u007f',
  '\u202e', // right-to-left override
  '\u2066',
  '\u200b', // zero-width space
  '\u2028',
  '\u3164', // Hangul filler: looks blank
  '\ufe0f', // variation selector
  '\u{e0041}', // tag character: invisible ASCII smuggling
];

test('every hiding character is shown as a visible escape; ordinary text is left alone', () => {
  for (const ch of HIDING) {
    const shown = visibleText(`a${ch}b`);
    assert.equal(shown, `a\\u{${ch.codePointAt(0)!.toString(16)}}b`);
  }
  assert.equal(visibleText('zap thief@evil.example ⚡ é 日本'), 'zap thief@evil.example ⚡ é 日本');
  assert.equal(visibleJson('x\u202ey'), '"x\\u{202e}y"');
});

test('property: the output never holds a hiding character, whatever the input', () => {
  const hiding = new RegExp(`[${HIDING.join('')}]`, 'u');
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      assert.ok(!hiding.test(visibleText(text)));
    }),
    { numRuns: 2_000 },
  );
});
