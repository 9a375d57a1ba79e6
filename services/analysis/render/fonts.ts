/**
 * Font set-up for everything the engine draws (thumbnails, charts, annotated video).
 *
 * SYSTEM REQUIREMENT: @napi-rs/canvas renders no text without a font. We use DejaVu Sans,
 * which Debian/Ubuntu ship as `fonts-dejavu-core` (apt-get install fonts-dejavu-core);
 * scripts/setup.sh installs it. One fixed font also keeps image output the same on every
 * machine, whatever else is installed.
 */
import { existsSync } from 'node:fs';
import { GlobalFonts } from '@napi-rs/canvas';

/** Where fonts-dejavu-core puts the regular sans face. */
export const DEJAVU_SANS_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const PREFERRED_FAMILY = 'DejaVu Sans';

let family: string | undefined;

/**
 * Makes sure a font is registered and returns the family name to use in `ctx.font`.
 * Cheap after the first call. Throws, saying what to install, when no font is usable.
 */
export function ensureFonts(): string {
  if (family !== undefined) return family;
  // @napi-rs/canvas loads system fonts on start-up; reading `families` lists them.
  const families = GlobalFonts.families.map((entry) => entry.family);
  if (families.includes(PREFERRED_FAMILY)) {
    family = PREFERRED_FAMILY;
  } else if (existsSync(DEJAVU_SANS_PATH)) {
    GlobalFonts.registerFromPath(DEJAVU_SANS_PATH, PREFERRED_FAMILY);
    family = PREFERRED_FAMILY;
  } else if (families.length > 0) {
    // Some other system font is present: text still renders, only the look differs.
    family = families.find((name) => /sans/i.test(name)) ?? (families[0] as string);
  } else {
    throw new Error(
      `No font available for drawing text (${DEJAVU_SANS_PATH} is missing): install fonts-dejavu-core (apt-get install fonts-dejavu-core)`,
    );
  }
  return family;
}

/** A CSS font string for `ctx.font`, e.g. `font(14, 'bold')`. */
export function font(sizePx: number, weight: 'normal' | 'bold' = 'normal'): string {
  return `${weight} ${Math.round(sizePx)}px "${ensureFonts()}"`;
}
