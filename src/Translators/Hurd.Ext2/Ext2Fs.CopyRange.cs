using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

public sealed partial class Ext2Fs
{
    /// <summary>
    /// copy_file_range within this filesystem, keeping holes: data regions of the source are copied,
    /// holes become holes (punched where the destination had data). Stops at the source's end of file;
    /// the destination grows to cover the copied range. Not atomic with respect to other writers.
    /// </summary>
    public Errno CopyFileRange(InodeNumber src, long srcOffset, InodeNumber dst, long dstOffset, long length, out long copied)
    {
        copied = 0;
        if (srcOffset < 0 || dstOffset < 0 || length < 0) return Errno.EINVAL;
        var err = GetAttr(src, out var sst);
        if (err != Errno.OK) return err;
        err = GetAttr(dst, out var dstSt);
        if (err != Errno.OK) return err;
        if (!sst.Mode.IsRegular() || !dstSt.Mode.IsRegular()) return sst.Mode.IsDirectory() || dstSt.Mode.IsDirectory() ? Errno.EISDIR : Errno.EINVAL;
        if (src == dst && srcOffset < dstOffset + length && dstOffset < srcOffset + length) return Errno.EINVAL;
        long total = Math.Min(length, sst.Size - srcOffset);
        if (total <= 0) return Errno.OK;
        if (dstOffset + total > MaxFileSize || dstOffset + total < 0) return Errno.EFBIG;
        var buf = new byte[Math.Min(total, 1 << 20)];
        long pos = 0;
        while (pos < total)
        {
            // The next data region [d, h) of the source, clipped to the range.
            err = Seek(src, srcOffset + pos, SeekData, out long d);
            if (err == Errno.ENXIO) d = srcOffset + total;
            else if (err != Errno.OK) return err;
            d = Math.Min(d, srcOffset + total);
            if (d > srcOffset + pos)
            {
                // A hole in the source: the destination must read zeros there.
                long hs = dstOffset + pos, hl = d - (srcOffset + pos);
                if (hs < dstSt.Size)
                {
                    err = Fallocate(dst, FallocateMode.PunchHole | FallocateMode.KeepSize, hs, Math.Min(hl, dstSt.Size - hs));
                    if (err != Errno.OK) return err;
                }
                pos = d - srcOffset;
                if (pos >= total) break;
            }
            err = Seek(src, srcOffset + pos, SeekHole, out long h);
            if (err != Errno.OK) return err;
            h = Math.Min(h, srcOffset + total);
            while (srcOffset + pos < h)
            {
                int n = (int)Math.Min(buf.Length, h - (srcOffset + pos));
                err = Read(src, srcOffset + pos, buf.AsSpan(0, n), out int got);
                if (err != Errno.OK) return err;
                if (got == 0) break;
                err = Write(dst, dstOffset + pos, buf.AsSpan(0, got), out int put);
                pos += put;
                copied = pos;
                if (err != Errno.OK) return copied > 0 ? Errno.OK : err;
                if (put < got) return Errno.OK;
            }
        }
        // A hole at the end of the range still extends the destination.
        err = GetAttr(dst, out dstSt);
        if (err == Errno.OK && dstSt.Size < dstOffset + total) err = Truncate(dst, dstOffset + total);
        copied = total;
        return err;
    }
}
