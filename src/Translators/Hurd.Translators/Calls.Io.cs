using Hurd.Ipc.Abi;

namespace Hurd.Translators;

public static partial class Calls
{
    /// <summary>
    /// io_read: reads at <paramref name="offset"/>, or at the file pointer (advancing it) when the offset is
    /// <see cref="OpenFile.FilePointer"/>. EBADF when not open for reading, EISDIR on a directory, EINVAL for a
    /// negative offset, EOPNOTSUPP when the node is not <see cref="IReadable"/> (a symlink that is not reads as its
    /// target, as the Hurd's readlink expects).
    /// </summary>
    public static Errno IoRead(Protid who, long offset, Span<byte> buffer, out int read)
    {
        read = 0;
        var f = who.File;
        if (!f.CanRead) return Errno.EBADF;
        if (f.Node.AsReadable is not { } r)
        {
            if (f.Node.AsSymlink is { } s) return ReadSymlink(f, s, offset, buffer, out read);
            return f.Node.IsDirectory ? Errno.EISDIR : Errno.EOPNOTSUPP;
        }
        if (offset == OpenFile.FilePointer)
        {
            lock (f.Lock)
            {
                var e = r.Read(f, f.Offset, buffer, out read);
                if (e == Errno.OK) f.Offset += read;
                return e;
            }
        }
        if (offset < 0) return Errno.EINVAL;
        return r.Read(f, offset, buffer, out read);
    }

    /// <summary>A symlink opened with O_NOLINK reads as its target (how the Hurd's glibc implements readlink).</summary>
    static Errno ReadSymlink(OpenFile f, ISymlink s, long offset, Span<byte> buffer, out int read)
    {
        read = 0;
        var e = s.Readlink(out var target);
        if (e != Errno.OK) return e;
        lock (f.Lock)
        {
            long off = offset == OpenFile.FilePointer ? f.Offset : offset;
            if (off < 0) return Errno.EINVAL;
            if (off < target.Length)
            {
                read = Math.Min(buffer.Length, target.Length - (int)off);
                target.Span.Slice((int)off, read).CopyTo(buffer);
            }
            if (offset == OpenFile.FilePointer) f.Offset = off + read;
        }
        return Errno.OK;
    }

    /// <summary>
    /// io_write: writes at <paramref name="offset"/>, or at the file pointer (advancing it) when the offset is
    /// <see cref="OpenFile.FilePointer"/>; with O_APPEND always at the end of file, atomically (as Linux, even for
    /// pwrite). A non-root writer drops the file's set-id bits. EBADF when not open for writing, EISDIR on a directory,
    /// EINVAL for a negative offset, EOPNOTSUPP when the node is not <see cref="IWritable"/>.
    /// </summary>
    public static Errno IoWrite(Protid who, long offset, ReadOnlySpan<byte> data, out int written)
    {
        written = 0;
        var f = who.File;
        if (!f.CanWrite) return Errno.EBADF;
        if (f.Node.AsWritable is not { } w) return f.Node.IsDirectory ? Errno.EISDIR : Errno.EOPNOTSUPP;
        if (offset < 0 && offset != OpenFile.FilePointer) return Errno.EINVAL;
        if (data.IsEmpty) return Errno.OK;
        if (!who.User.IsRoot && f.Node.AsAttributes is not null)
        {
            var e = Stat(who, f.Node, out var st);
            if (e != Errno.OK) return e;
            if ((st.Mode & (FileMode.SetUid | FileMode.SetGid)) != 0) DropSuid(who.User, f.Node, st);
        }
        bool append = (f.Flags & OpenFlags.Append) != 0;
        if (offset == OpenFile.FilePointer)
        {
            lock (f.Lock)
            {
                var e = w.Write(f, append ? IWritable.AppendOffset : f.Offset, data, out written, out long end);
                if (e == Errno.OK) f.Offset = end;
                return e;
            }
        }
        return w.Write(f, append ? IWritable.AppendOffset : offset, data, out written, out _);
    }

    /// <summary>
    /// io_seek: moves the file pointer. SEEK_DATA / SEEK_HOLE use <see cref="ISeekableData"/> (default: the whole file is
    /// data). EINVAL for a negative result or an unknown whence (and for anything but SEEK_SET/SEEK_CUR on a directory,
    /// whose offsets are readdir cookies), ENXIO for DATA/HOLE at or past the end, EOVERFLOW on overflow.
    /// </summary>
    public static Errno IoSeek(Protid who, long offset, Whence whence, out long result)
    {
        result = 0;
        var f = who.File;
        if (f.Node is IDirectory && whence is not (Whence.Set or Whence.Current)) return Errno.EINVAL; // as Linux's dcache_dir_lseek
        lock (f.Lock)
        {
            long size = 0;
            if (whence is Whence.End or Whence.Data or Whence.Hole)
            {
                var e = Stat(who, f.Node, out var st);
                if (e != Errno.OK) return e;
                size = st.Size;
            }
            long pos;
            switch (whence)
            {
                case Whence.Set: pos = offset; break;
                case Whence.Current:
                    if (offset > 0 ? f.Offset > long.MaxValue - offset : f.Offset < long.MinValue - offset) return Errno.EOVERFLOW;
                    pos = f.Offset + offset; break;
                case Whence.End:
                    if (offset > 0 && size > long.MaxValue - offset) return Errno.EOVERFLOW;
                    pos = size + offset; break;
                case Whence.Data:
                case Whence.Hole:
                    if (offset < 0) return Errno.ENXIO;
                    if (f.Node is ISeekableData sd)
                    {
                        var e = sd.SeekData(offset, whence == Whence.Hole, out pos);
                        if (e != Errno.OK) return e;
                    }
                    else
                    {
                        if (offset >= size) return Errno.ENXIO;
                        pos = whence == Whence.Data ? offset : size;
                    }
                    break;
                default: return Errno.EINVAL;
            }
            if (pos < 0) return Errno.EINVAL;
            f.Offset = pos;
            result = pos;
            return Errno.OK;
        }
    }

    /// <summary>
    /// file_set_size (ftruncate): EINVAL for a negative size or when the protid is not open for writing (as Linux's
    /// ftruncate), EISDIR on a directory, EINVAL on a non-regular node; a non-root caller drops the set-id bits. The
    /// node's <see cref="ITruncatable.Truncate"/> is called even for the current size, and then mtime and ctime are
    /// stamped here (Linux's ftruncate does; truncate(2) by path, <see cref="Truncate"/>, leaves that to the node).
    /// </summary>
    public static Errno FileSetSize(Protid who, long size)
    {
        if (size < 0) return Errno.EINVAL;
        var f = who.File;
        if (!f.CanWrite) return Errno.EINVAL;
        var e = SetSize(who, f.Node, size, out long oldSize);
        // ftruncate(2) stamps mtime and ctime even at the same size (Linux's do_ftruncate passes ATTR_MTIME|ATTR_CTIME),
        // where truncate(2) and the node's own rule may leave them.
        if (e == Errno.OK && oldSize == size && f.Node is IAttributes a)
            a.SetAttributes(new SetAttr { Valid = AttrMask.Mtime, Mtime = TimeSpec.Now() });
        return e;
    }

    /// <summary>truncate(2) by path: like <see cref="FileSetSize"/> but checks write permission instead of the open mode.</summary>
    public static Errno Truncate(Protid who, Node node, long size)
    {
        if (size < 0) return Errno.EINVAL;
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        if (st.Mode.IsDirectory()) return Errno.EISDIR;
        e = CheckAccess(who.User, node, st, Access.Write);
        if (e != Errno.OK) return e;
        return SetSize(who, node, size, out _);
    }

    static Errno SetSize(Protid who, Node node, long size, out long oldSize)
    {
        oldSize = -1;
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        if (st.Mode.IsDirectory()) return Errno.EISDIR;
        if (!st.Mode.IsRegular() || node is not ITruncatable t) return Errno.EINVAL;
        oldSize = st.Size;
        // Always, even at the same size: the node decides what that means (tmpfs, as Linux's shmem_setattr, drops pages
        // fallocated past the end and then stamps the times; KernelTmpfsDifferentialTests checks it against the kernel).
        e = t.Truncate(size);
        if (e == Errno.OK && !who.User.IsRoot) DropSuid(who.User, node, st);
        return e;
    }

    /// <summary>
    /// fallocate, with Linux's checks in Linux's order: EINVAL for offset &lt; 0 or length ≤ 0; EOPNOTSUPP for unknown
    /// modes, PUNCH_HOLE with ZERO_RANGE, PUNCH_HOLE without KEEP_SIZE; EINVAL for COLLAPSE/INSERT/UNSHARE mixed with
    /// other modes; EBADF unless open for writing; ESPIPE on a FIFO, EISDIR on a directory, ENODEV on other non-regular
    /// nodes; EFBIG when offset+length overflows; EOPNOTSUPP when the node is not <see cref="IAllocatable"/>.
    /// </summary>
    public static Errno Fallocate(Protid who, FallocateMode mode, long offset, long length)
    {
        var f = who.File;
        if (offset < 0 || length <= 0) return Errno.EINVAL;
        const FallocateMode known = FallocateMode.KeepSize | FallocateMode.PunchHole | FallocateMode.ZeroRange |
            FallocateMode.CollapseRange | FallocateMode.InsertRange | FallocateMode.UnshareRange | FallocateMode.NoHideStale;
        // the order of Linux's vfs_fallocate, so that several errors give the same one
        if ((mode & ~known) != 0) return Errno.EOPNOTSUPP;
        if ((mode & (FallocateMode.PunchHole | FallocateMode.ZeroRange)) == (FallocateMode.PunchHole | FallocateMode.ZeroRange)) return Errno.EOPNOTSUPP;
        if ((mode & FallocateMode.PunchHole) != 0 && (mode & FallocateMode.KeepSize) == 0) return Errno.EOPNOTSUPP;
        if ((mode & FallocateMode.CollapseRange) != 0 && (mode & ~FallocateMode.CollapseRange) != 0) return Errno.EINVAL;
        if ((mode & FallocateMode.InsertRange) != 0 && (mode & ~FallocateMode.InsertRange) != 0) return Errno.EINVAL;
        if ((mode & FallocateMode.UnshareRange) != 0 && (mode & ~(FallocateMode.UnshareRange | FallocateMode.KeepSize)) != 0) return Errno.EINVAL;
        if (!f.CanWrite) return Errno.EBADF;
        var e = Stat(who, f.Node, out var st);
        if (e != Errno.OK) return e;
        if (st.Mode.Type() == FileMode.Fifo) return Errno.ESPIPE;
        if (st.Mode.IsDirectory()) return Errno.EISDIR;
        if (!st.Mode.IsRegular()) return Errno.ENODEV;
        if (offset > long.MaxValue - length) return Errno.EFBIG;
        if (f.Node is not IAllocatable a) return Errno.EOPNOTSUPP;
        e = a.Fallocate(mode, offset, length);
        if (e == Errno.OK && !who.User.IsRoot) DropSuid(who.User, f.Node, st);
        return e;
    }

    /// <summary>
    /// copy_file_range: copies up to <paramref name="length"/> bytes from <paramref name="source"/> (at
    /// <paramref name="sourceOffset"/>, or its file pointer when <see cref="OpenFile.FilePointer"/>) to
    /// <paramref name="destination"/> (likewise), advancing file pointers that were used. EBADF unless the source is open
    /// for reading and the destination for writing without O_APPEND; EISDIR for directories, EINVAL for other non-regular
    /// nodes, negative offsets, or overlapping ranges of the same file (after shortening to the source's end, as Linux);
    /// EOVERFLOW when an end overflows. Uses the destination's <see cref="ICopyRange"/> when it has one, else reads and
    /// writes through a 64 KiB buffer.
    /// </summary>
    public static Errno CopyFileRange(Protid source, long sourceOffset, Protid destination, long offset, long length, out long copied)
    {
        copied = 0;
        var sf = source.File; var df = destination.File;
        // Linux's order (generic_file_rw_checks, generic_copy_file_checks), so that several errors give the same one
        var e = Stat(source, sf.Node, out var sst);
        if (e != Errno.OK) return e;
        e = Stat(destination, df.Node, out var dst);
        if (e != Errno.OK) return e;
        if (sst.Mode.IsDirectory() || dst.Mode.IsDirectory()) return Errno.EISDIR;
        if (!sst.Mode.IsRegular() || !dst.Mode.IsRegular()) return Errno.EINVAL;
        if (!sf.CanRead || !df.CanWrite || (df.Flags & OpenFlags.Append) != 0) return Errno.EBADF;
        if (length < 0) return Errno.EINVAL;
        bool useSrcPtr = sourceOffset == OpenFile.FilePointer, useDstPtr = offset == OpenFile.FilePointer;
        long so = useSrcPtr ? sf.Offset : sourceOffset;
        long d0 = useDstPtr ? df.Offset : offset;
        if (so < 0 || d0 < 0) return Errno.EINVAL;
        if (so > long.MaxValue - length || d0 > long.MaxValue - length) return Errno.EOVERFLOW;
        length = so >= sst.Size ? 0 : Math.Min(length, sst.Size - so); // shortened to the source's end
        if (sf.Node == df.Node && d0 + length > so && d0 < so + length) return Errno.EINVAL;
        if (length == 0) return Errno.OK;
        if (!destination.User.IsRoot && (dst.Mode & (FileMode.SetUid | FileMode.SetGid)) != 0) DropSuid(destination.User, df.Node, dst);

        long n = 0;
        if (df.Node is ICopyRange cr && (e = cr.CopyFileRange(sf.Node, so, d0, length, out n)) != Errno.EXDEV)
        {
            if (e != Errno.OK) return e;
        }
        else
        {
            if (sf.Node is not IReadable r || df.Node is not IWritable w) return Errno.EINVAL;
            var buf = new byte[(int)Math.Min(length, 65536)];
            n = 0;
            while (n < length)
            {
                int want = (int)Math.Min(buf.Length, length - n);
                e = r.Read(sf, so + n, buf.AsSpan(0, want), out int got);
                if (e != Errno.OK) { if (n > 0) break; return e; }
                if (got == 0) break;
                e = w.Write(df, d0 + n, buf.AsSpan(0, got), out int put, out _);
                if (e != Errno.OK) { if (n > 0) break; return e; }
                n += put;
                if (put < got) break;
            }
        }
        if (useSrcPtr) sf.Offset = so + n;
        if (useDstPtr) df.Offset = d0 + n;
        copied = n;
        return Errno.OK;
    }

    /// <summary>file_sync: <see cref="ISyncable"/>, default success.</summary>
    public static Errno FileSync(Protid who, bool dataOnly) => who.Node is ISyncable s ? s.Sync(dataOnly) : Errno.OK;

    /// <summary>file_statfs: <see cref="IStatFs"/>, default zero counts with f_bsize 4096 and f_namelen 255.</summary>
    public static Errno FileStatfs(Protid who, out StatFs st)
    {
        st = default;
        st.Bsize = 4096; st.Frsize = 4096; st.Namelen = Limits.NameMax;
        return who.Node is IStatFs s ? s.StatFs(ref st) : Errno.OK;
    }

    /// <summary>file_check_access / access(2): EACCES unless the caller may access the node as <paramref name="want"/>.</summary>
    public static Errno FileCheckAccess(Protid who, Node node, Access want)
    {
        var e = Stat(who, node, out var st);
        return e != Errno.OK ? e : CheckAccess(who.User, node, st, want);
    }
}
