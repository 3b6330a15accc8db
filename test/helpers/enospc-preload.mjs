// Fault injection for machines where a small tmpfs cannot be mounted: loaded with
// `node --import`, it makes every write to a file whose path contains $FAULT_ENOSPC fail the
// way a full disk does (a short write of $FAULT_ENOSPC_AFTER bytes, then ENOSPC).
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const pattern = process.env.FAULT_ENOSPC;
const after = Number(process.env.FAULT_ENOSPC_AFTER ?? 4096);
if (pattern) {
  const watched = new Map();
  const open = fs.openSync;
  fs.openSync = function (path, ...rest) {
    const fd = open.call(this, path, ...rest);
    if (String(path).includes(pattern)) watched.set(fd, 0);
    return fd;
  };
  const write = fs.writeSync;
  fs.writeSync = function (fd, buf, off, len, pos, ...rest) {
    if (!watched.has(fd)) return write.call(this, fd, buf, off, len, pos, ...rest);
    const done = watched.get(fd);
    if (done >= after) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    const n = Math.min(typeof len === 'number' ? len : buf.length, after - done);
    const written = write.call(this, fd, buf, off, n, pos, ...rest);
    watched.set(fd, done + written);
    return written;
  };
  syncBuiltinESMExports();
}
