// Colours of the map in the light and dark themes. Kinds get distinct hues; health uses
// the conventional green / amber / red, tuned per theme for contrast against the canvas.
import type { NodeKind } from '../../../graph/types.js';

export type ThemeName = 'light' | 'dark';

export interface Palette {
  canvas: string;
  text: string;
  muted: string;
  labelHalo: string;
  groupFill: string;
  groupBorder: string;
  groupText: string;
  kind: Record<NodeKind, string>;
  kindBorder: Record<NodeKind, string>;
  edgeIdle: string;
  edgeOk: string;
  edgeOpen: string;
  edgeWarn: string;
  edgeFail: string;
  labelBg: string;
  accent: string;
}

export const PALETTES: Record<ThemeName, Palette> = {
  light: {
    canvas: '#f6f7f9',
    text: '#1c2128',
    muted: '#57606a',
    labelHalo: '#f6f7f9',
    groupFill: '#ffffff',
    groupBorder: '#d3d9e0',
    groupText: '#57606a',
    kind: { service: '#3566d6', container: '#7a52cc', process: '#0f8a86', external: '#5f6b7a', client: '#b8408f' },
    kindBorder: { service: '#254ea8', container: '#5c3a9e', process: '#0a6663', external: '#454f5b', client: '#8c2f6c' },
    edgeIdle: '#aab3be',
    edgeOk: '#1f9d63',
    edgeOpen: '#5fae8a',
    edgeWarn: '#d48806',
    edgeFail: '#d92d2d',
    labelBg: '#ffffff',
    accent: '#3566d6',
  },
  dark: {
    canvas: '#0f1318',
    text: '#e6eaef',
    muted: '#9aa5b1',
    labelHalo: '#0f1318',
    groupFill: '#161b22',
    groupBorder: '#2d3540',
    groupText: '#9aa5b1',
    kind: { service: '#4d82f0', container: '#9473e6', process: '#1ea7a1', external: '#7a8796', client: '#d45aaa' },
    kindBorder: { service: '#8fb0f7', container: '#bba5f0', process: '#6fd3ce', external: '#a9b4c0', client: '#ec9bcf' },
    edgeIdle: '#4a5460',
    edgeOk: '#38c482',
    edgeOpen: '#3c8f69',
    edgeWarn: '#f2b233',
    edgeFail: '#ff5a5a',
    labelBg: '#161b22',
    accent: '#6d9bf5',
  },
};
