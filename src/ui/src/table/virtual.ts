// Only the rows in view (plus a margin) are rendered, so a table of thousands of
// connections re-renders in a few milliseconds. Rows have a fixed height.
import { useCallback, useEffect, useRef, useState } from 'react';

export const ROW_HEIGHT = 34;
const OVERSCAN = 12;

export function useVirtualRows(count: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 900 });

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
    };
    const soon = () => { if (!frame) frame = requestAnimationFrame(update); };
    update();
    el.addEventListener('scroll', soon, { passive: true });
    const ro = new ResizeObserver(soon);
    ro.observe(el);
    return () => { el.removeEventListener('scroll', soon); ro.disconnect(); cancelAnimationFrame(frame); };
  }, []);

  const start = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const end = Math.min(count, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);

  /** Keyboard: moves focus to row `i`, scrolling it into view (and so into the DOM) first. */
  const focusRow = useCallback((i: number) => {
    const el = ref.current;
    if (!el || i < 0 || i >= count) return;
    const head = el.querySelector('thead')?.getBoundingClientRect().height ?? ROW_HEIGHT;
    const top = head + i * ROW_HEIGHT;
    if (top - head < el.scrollTop) el.scrollTop = top - head;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    const tryFocus = (left: number) => {
      const row = el.querySelector<HTMLElement>(`tr[data-row-index="${i}"]`);
      if (row) row.focus({ preventScroll: true });
      else if (left > 0) requestAnimationFrame(() => tryFocus(left - 1));
    };
    tryFocus(5);
  }, [count]);

  /** Arrow keys, Home and End on a row. */
  const onRowKey = useCallback((ev: React.KeyboardEvent, i: number) => {
    const to = ev.key === 'ArrowDown' ? i + 1 : ev.key === 'ArrowUp' ? i - 1 : ev.key === 'Home' ? 0 : ev.key === 'End' ? count - 1 : null;
    if (to === null) return false;
    ev.preventDefault();
    focusRow(Math.max(0, Math.min(count - 1, to)));
    return true;
  }, [count, focusRow]);

  return { ref, start, end, padTop: start * ROW_HEIGHT, padBottom: (count - end) * ROW_HEIGHT, onRowKey };
}
