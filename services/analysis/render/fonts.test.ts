import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GlobalFonts } from '@napi-rs/canvas';
import { ensureFonts, font } from './fonts.js';

describe('ensureFonts', () => {
  it('makes a registered font family available for text', () => {
    const family = ensureFonts();
    assert.ok(GlobalFonts.has(family), `${family} is registered`);
    assert.equal(font(14, 'bold'), `bold 14px "${family}"`);
  });
});
