// What makes two paths one uprobe target. The kernel puts a uprobe on the real
// inode (overlayfs hands it the layer's file), so one set of probes on an
// image's binary fires in every container of that image. Through overlayfs,
// stat() reports a different st_dev for each container's mount but the real
// file's inode number (checked on 6.18: two containers of one image, st_dev 39
// and 50, st_ino 2147652 in both, and a uprobe attached through the first
// container's root fired in the second). So the key leaves st_dev out and
// takes the inode number with the size and modification time, which two
// different files sharing an inode number on different filesystems would not
// also share.
import type { BigIntStats } from 'node:fs';

export function tlsFileKey(st: Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs'>): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}`;
}
