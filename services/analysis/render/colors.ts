/**
 * Colours shared by every rendered image, so a user learns them once: the person's left
 * side is orange and the right side blue everywhere (thumbnails, video, charts).
 */
export const COLORS = {
  left: '#ff8c1a',
  right: '#1eb4ff',
  centre: '#f2f2f2',
  outline: 'rgba(0, 0, 0, 0.75)',
  highlight: '#ffe14d',
  highlightFill: 'rgba(255, 225, 77, 0.35)',
  labelBackground: 'rgba(0, 0, 0, 0.7)',
  labelText: '#ffffff',
} as const;

/** Series colours for charts, in order; left/right first so a "left knee" line matches the skeleton. */
export const SERIES_PALETTE = ['#ff8c1a', '#1eb4ff', '#2ca02c', '#d62728', '#9467bd', '#8c564b'] as const;
