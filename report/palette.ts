/**
 * Colours and fonts of the report. Categories use the Okabe-Ito palette,
 * which stays distinguishable with the common kinds of colour blindness;
 * the heatmap uses viridis. Every state also has a symbol, so no meaning
 * rests on colour alone.
 *
 * @module
 */

import type { AssetState, DayState } from "./collect.ts";

/** The Okabe-Ito palette. */
export const OKABE_ITO = {
  black: "#000000",
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
} as const;

/** System fonts only: nothing is downloaded. */
export const FONT_STACK =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** Fill of an empty heatmap cell (no impressions). */
export const EMPTY_CELL = "#ebebeb";

/** How a state is drawn: fill, text colour on it, symbol and a short word. */
export interface StateStyle {
  /** Fill colour. */
  fill: string;
  /** Text colour on the fill. */
  ink: string;
  /** Stroke colour. */
  stroke: string;
  /** A one-character symbol. */
  symbol: string;
  /** Whether the outline is dashed. */
  dashed: boolean;
}

const STYLES: Record<AssetState | DayState, StateStyle> = {
  "materialized": {
    fill: OKABE_ITO.blue,
    ink: "#ffffff",
    stroke: OKABE_ITO.blue,
    symbol: "●",
    dashed: false,
  },
  "up to date": {
    fill: OKABE_ITO.bluishGreen,
    ink: "#ffffff",
    stroke: OKABE_ITO.bluishGreen,
    symbol: "✓",
    dashed: false,
  },
  "warn": {
    fill: OKABE_ITO.orange,
    ink: "#000000",
    stroke: OKABE_ITO.orange,
    symbol: "!",
    dashed: false,
  },
  "failed": {
    fill: OKABE_ITO.vermillion,
    ink: "#ffffff",
    stroke: OKABE_ITO.vermillion,
    symbol: "✕",
    dashed: false,
  },
  "skipped": {
    fill: "#bbbbbb",
    ink: "#000000",
    stroke: "#888888",
    symbol: "–",
    dashed: false,
  },
  "cached": {
    fill: OKABE_ITO.skyBlue,
    ink: "#000000",
    stroke: OKABE_ITO.skyBlue,
    symbol: "◆",
    dashed: false,
  },
  "not run": {
    fill: "#ffffff",
    ink: "#555555",
    stroke: "#999999",
    symbol: "○",
    dashed: true,
  },
  "no data": {
    fill: "#ffffff",
    ink: "#555555",
    stroke: "#999999",
    symbol: "○",
    dashed: true,
  },
};

/**
 * The style of a state.
 *
 * @example
 * ```ts
 * import { stateStyle } from "./palette.ts";
 * stateStyle("failed").symbol; // "✕"
 * ```
 */
export function stateStyle(state: AssetState | DayState): StateStyle {
  return STYLES[state];
}

/** States in legend order. */
export const LEGEND_STATES: readonly (AssetState | DayState)[] = [
  "materialized",
  "up to date",
  "warn",
  "failed",
  "skipped",
  "cached",
  "no data",
];
