// Pod names from kubelet's container log links (unit test, a real folder of links).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeletLogNames, parseLogLinkName } from './kubelet-logs.js';

const ID = 'a1b2c3d4e5f6'.repeat(5) + 'a1b2';

test('a log link\'s name gives pod, namespace and container; other names give nothing', () => {
  assert.deepEqual(parseLogLinkName(`coredns-5d78c9869d-2xk7p_kube-system_coredns-${ID}.log`), { pod: 'coredns-5d78c9869d-2xk7p', namespace: 'kube-system', container: 'coredns', id: ID });
  assert.deepEqual(parseLogLinkName(`db-0_shop_istio-proxy-${ID}.log`), { pod: 'db-0', namespace: 'shop', container: 'istio-proxy', id: ID });
  assert.deepEqual(parseLogLinkName(`my.pod_default_app-${ID}.log`)?.pod, 'my.pod');
  for (const bad of ['kube-proxy.log', `pod_ns_<script>-${ID}.log`, `pod_ns_a b-${ID}.log`, `pod_ns_c-${ID.slice(1)}.log`, `pod_ns_c-${ID.toUpperCase()}.log`, `pod_c-${ID}.log`, `pod_ns_c-${ID}.log.1`, `Pod_ns_c-${ID}.log`]) {
    assert.equal(parseLogLinkName(bad), null, bad);
  }
});

test('a container not known yet reads the folder again, at most once per interval; a missing folder is counted, not thrown', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-kubelet-'));
  try {
    let now = 0;
    const names = new KubeletLogNames(dir, 1000, () => now);
    assert.equal(names.lookup(ID), null);
    fs.symlinkSync('/dev/null', path.join(dir, `api-6c4d9b7f5-x2k4p_shop_api-${ID}.log`));
    now = 500;
    assert.equal(names.lookup(ID), null, 'within the interval: not read again');
    now = 1000;
    assert.deepEqual(names.lookup(ID), { pod: 'api-6c4d9b7f5-x2k4p', namespace: 'shop', container: 'api' });
    assert.equal(names.stats.reads, 2);
    now = 1001;
    names.lookup(ID);
    assert.equal(names.stats.reads, 2, 'a known one reads nothing');

    const none = new KubeletLogNames(path.join(dir, 'nope'), 1000, () => now);
    assert.equal(none.lookup(ID), null);
    assert.deepEqual(none.stats, { reads: 1, failures: 1 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
