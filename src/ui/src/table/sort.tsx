// Sortable column headers: a button per header, aria-sort on the column.
import { useState } from 'react';

export interface SortState<K extends string> { key: K; desc: boolean }

export function useSort<K extends string>(initial: K, desc = true) {
  const [sort, setSort] = useState<SortState<K>>({ key: initial, desc });
  const toggle = (key: K) => setSort((s) => (s.key === key ? { key, desc: !s.desc } : { key, desc: true }));
  return [sort, toggle] as const;
}

export function SortHeader<K extends string>({ k, label, sort, onSort, numeric, title }: { k: K; label: string; sort: SortState<K>; onSort: (k: K) => void; numeric?: boolean; title?: string }) {
  const active = sort.key === k;
  return (
    <th scope="col" aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'} className={numeric ? 'num' : undefined}>
      <button type="button" className={`sort${active ? ' active' : ''}`} onClick={() => onSort(k)} data-testid={`sort-${k}`} title={title ?? `Sort by ${label}`}>
        {label}
        <span className="sort-mark" aria-hidden="true">{active ? (sort.desc ? '↓' : '↑') : '↕'}</span>
      </button>
    </th>
  );
}

export function compareBy<T>(get: (x: T) => number | string, desc: boolean) {
  return (a: T, b: T) => {
    const x = get(a), y = get(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return desc ? -c : c;
  };
}
