// Which Cytoscape renderer draws the map. WebGL (Cytoscape ≥ 3.31) moves the drawing to the GPU,
// which keeps big maps smooth; but a WebGL that is emulated on the CPU (SwiftShader, llvmpipe:
// VMs, headless browsers, blocklisted GPUs) is several times slower than the plain canvas. So by
// default WebGL is used only when it is backed by a GPU; `?renderer=webgl|canvas` in the page URL
// (or localStorage 'dhrishti.renderer') forces a choice.
export type RendererPref = 'auto' | 'webgl' | 'canvas';
export type RendererName = 'webgl' | 'canvas';

const KEY = 'dhrishti.renderer';
const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render|mesa offscreen/i;

export function rendererPref(): RendererPref {
  const ok = (v: string | null): v is RendererPref => v === 'auto' || v === 'webgl' || v === 'canvas';
  const q = new URLSearchParams(window.location.search).get('renderer');
  if (ok(q)) return q;
  try { const v = window.localStorage.getItem(KEY); if (ok(v)) return v; } catch { /* storage disabled */ }
  return 'auto';
}

export interface GlSupport { webgl2: boolean; software: boolean; name: string }

/** What WebGL 2 this browser offers (probed on a throwaway canvas). */
export function probeWebgl(): GlSupport {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2');
    if (!gl) return { webgl2: false, software: false, name: '' };
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { webgl2: true, software: SOFTWARE.test(name), name };
  } catch {
    return { webgl2: false, software: false, name: '' };
  }
}

export function chooseRenderer(pref: RendererPref, gl: GlSupport = probeWebgl()): RendererName {
  if (!gl.webgl2 || pref === 'canvas') return 'canvas';
  if (pref === 'webgl') return 'webgl';
  return gl.software ? 'canvas' : 'webgl';
}
