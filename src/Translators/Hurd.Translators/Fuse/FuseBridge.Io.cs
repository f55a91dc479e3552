namespace Hurd.Translators.Fuse;

using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using XattrFlags = Hurd.Interfaces.XattrFlags;

public sealed partial class FuseBridge
{
    /// <inheritdoc/>
    /// <remarks>dir_lookup(node, "", open modes) on the caller's port: a new peropen with those modes, kept as the handle.
    /// O_TRUNC (ATOMIC_O_TRUNC) is passed on and done by the server.</remarks>
    public override Errno Open(in FuseContext ctx, in OpenIn input, out OpenOut open)
    {
        open = default;
        var flags = OpenModes(input.Flags) | OpenFlags.NoLink;
        if (_options.ReadOnly && (flags & (OpenFlags.Write | OpenFlags.Truncate)) != 0) return Errno.EROFS;
        var id = Who(in ctx);
        BridgeNode node;
        PortRef opened;
        Errno e;
        if (!id.IsRoot || !TryRefOpen(in ctx, flags, out node, out opened!, out e))
        {
            e = NodePort(in ctx, ctx.NodeId, id, out node, out var port);
            if (e != Errno.OK) return e;
            try { e = Walk(port, default, flags, 0, id, ctx.Cancellation, out opened); }
            finally { port.Release(); }
        }
        if (e != Errno.OK) return e;
        open.OpenFlags = OpenReplyFlags.NoFlush | CacheFlag(node, opened, ctx.Cancellation);
        open.Fh = AddHandle(opened, node, (flags & (OpenFlags.Append | OpenFlags.Write)) == (OpenFlags.Append | OpenFlags.Write));
        return Errno.OK;
    }

    /// <summary>OPEN / OPENDIR by root of a node named by reference (not the root: its port is at hand): noderef_open with
    /// <paramref name="flags"/>, a new peropen, without a uid-0 port for the node. False to open from the node's port.</summary>
    private bool TryRefOpen(in FuseContext ctx, OpenFlags flags, out BridgeNode node, out PortRef? opened, out Errno e)
    {
        opened = null;
        e = Errno.OK;
        node = _nodes.Get(ctx.NodeId)!;
        if (node is null || node.Ref == 0 || !Named(node)) return false;
        e = FsExt(_session, ctx.Cancellation).noderef_open(node.Ref, flags, out var name);
        if (NoRefs(e) || e == Errno.ESTALE) return false;
        if (e != Errno.OK) { e = Posix(e); return true; }
        var right = SendRight.FromName(name);
        if (right is null) { e = Errno.EIO; return true; }
        opened = Own(right);
        return true;
    }

    /// <summary>KEEP_CACHE when <see cref="FuseBridgeOptions.KeepCache"/>; with <see cref="FuseBridgeOptions.AutoCache"/>,
    /// when the file's mtime and size (io_stat on the new peropen) equal those seen at its previous open; otherwise none, and
    /// the kernel drops the file's page cache.</summary>
    private OpenReplyFlags CacheFlag(BridgeNode node, PortRef opened, CancellationToken ct)
    {
        if (_options.KeepCache) return OpenReplyFlags.KeepCache;
        if (!_options.AutoCache) return OpenReplyFlags.None;
        if (Io(opened, ct).io_stat(out var st) != Errno.OK) return OpenReplyFlags.None;
        return node.CacheStillValid(in st) ? OpenReplyFlags.KeepCache : OpenReplyFlags.None;
    }

    /// <inheritdoc/>
    public override Errno Release(in FuseContext ctx, in ReleaseIn input)
    {
        DropHandle(input.Fh);
        return Errno.OK;
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to do: writes reach the server before WRITE is answered. OPEN and CREATE replies carry
    /// FOPEN_NOFLUSH, so close(2) does not wait for a FLUSH round trip; this answers kernels that send one anyway.</remarks>
    public override Errno Flush(in FuseContext ctx, in FlushIn input) => Errno.OK;

    /// <inheritdoc/>
    /// <remarks>io_read at the request's offset, split into pieces of at most <see cref="FuseBridgeOptions.MaxIoChunk"/>
    /// bytes; a short piece is the end of the file.</remarks>
    public override Errno Read(in FuseContext ctx, in ReadIn input, Span<byte> data, out int count)
    {
        count = 0;
        var port = LeaseHandle(input.Fh);
        if (port is null) return Errno.EBADF;
        try
        {
            var io = Io(port, ctx.Cancellation);
            long offset = (long)input.Offset;
            int chunk = Math.Max(4096, _options.MaxIoChunk);
            while (count < data.Length)
            {
                int want = Math.Min(chunk, data.Length - count);
                var e = io.io_read(data.Slice(count, want), out int n, offset + count, want);
                if (e != Errno.OK) return count > 0 ? Errno.OK : Posix(e);
                count += n;
                if (n < want) break;
            }
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <summary>fuse_write_in.write_flags: a delayed write from the page cache (mmap writeback); the kernel picked any
    /// writable handle of the inode and the data belongs at the request's offset.</summary>
    private const uint FuseWriteCache = 1;

    /// <inheritdoc/>
    /// <remarks>io_write at the request's offset. A page-cache writeback (FUSE_WRITE_CACHE: pages written through a shared
    /// mapping) goes to the node's uid-0 peropen without O_APPEND (<see cref="PositionalPort"/>) instead of the handle's:
    /// through an O_APPEND handle the server would append it (Linux's pwrite rule for O_APPEND), moving mmap-written pages
    /// to the end of the file; and as the handle's user, the server would drop the file's set-id bits, which a write(2)
    /// does but a store through a mapping does not (Linux keeps S_ISUID/S_ISGID there).</remarks>
    public override Errno Write(in FuseContext ctx, in WriteIn input, ReadOnlySpan<byte> data, out uint written)
    {
        written = 0;
        if (_options.ReadOnly) return Errno.EROFS;
        PortRef? port;
        if ((input.WriteFlags & FuseWriteCache) != 0 && _handles.TryGetValue(input.Fh, out var h))
        {
            var pe = PositionalPort(input.Fh, h, ctx.Cancellation, out port);
            if (pe != Errno.OK) return pe;
        }
        else port = LeaseHandle(input.Fh);
        if (port is null) return Errno.EBADF;
        try
        {
            var io = Io(port, ctx.Cancellation);
            long offset = (long)input.Offset;
            int chunk = Math.Max(4096, _options.MaxIoChunk);
            int done = 0;
            while (done < data.Length)
            {
                int len = Math.Min(chunk, data.Length - done);
                var e = io.io_write(data.Slice(done, len), offset + done, out int n);
                if (e != Errno.OK) { written = (uint)done; return done > 0 ? Errno.OK : Posix(e); }
                done += n;
                if (n <= 0) break;
            }
            written = (uint)done;
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <summary>A lease on <paramref name="h"/>'s positional port: made once with dir_lookup(node, "", O_WRITE|O_NOLINK) on the
    /// node's uid-0 port (the kernel authorised the writeback through a handle open for writing; the node's mode may no
    /// longer allow a new open), kept until the handle is released. EBADF when the handle is gone.</summary>
    private Errno PositionalPort(ulong fh, OpenHandle h, CancellationToken ct, out PortRef? port)
    {
        port = null;
        var p = Volatile.Read(ref h.Positional);
        if (p is null)
        {
            var e = RootPort(h.Node, ct, out var root);
            if (e != Errno.OK) return e;
            try { e = Walk(root, default, OpenFlags.Write | OpenFlags.NoLink, 0, BridgeIdentity.Root, ct, out p); }
            finally { root.Release(); }
            if (e != Errno.OK) return e;
            var won = Interlocked.CompareExchange(ref h.Positional, p, null);
            if (won is not null) { p.Release(); p = won; }
        }
        if (!p.TryAcquire()) return Errno.EBADF;
        if (!_handles.ContainsKey(fh))
        {
            // RELEASE raced with this: the handle's reference may have been stored after DropHandle looked.
            p.Release();
            Interlocked.Exchange(ref h.Positional, null)?.Release();
            return Errno.EBADF;
        }
        port = p;
        return Errno.OK;
    }

    /// <inheritdoc/>
    public override Errno Fsync(in FuseContext ctx, in FsyncIn input)
    {
        var port = LeaseHandle(input.Fh);
        if (port is null) return Errno.EBADF;
        try { return Posix(Fs(port, ctx.Cancellation).file_sync(wait: true, omitMetadata: (input.FsyncFlags & 1) != 0)); }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Syncfs(in FuseContext ctx)
    {
        var port = _nodes.LeaseRoot(_root);
        if (port is null) return Errno.EIO;
        try { return Posix(Fs(port, ctx.Cancellation).file_syncfs(wait: true, doChildren: false)); }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    /// <remarks>A symlink opened with O_NOLINK reads as its target: dir_lookup(node, "", O_READ|O_NOLINK), then io_read.</remarks>
    public override Errno Readlink(in FuseContext ctx, Span<byte> target, out int length)
    {
        length = 0;
        var id = Who(in ctx);
        var e = NodePort(in ctx, ctx.NodeId, id, out _, out var port);
        if (e != Errno.OK) return e;
        PortRef opened;
        try { e = Walk(port, default, OpenFlags.Read | OpenFlags.NoLink, 0, id, ctx.Cancellation, out opened); }
        finally { port.Release(); }
        if (e != Errno.OK) return e;
        try
        {
            var io = Io(opened, ctx.Cancellation);
            while (length < target.Length)
            {
                e = io.io_read(target[length..], out int n, length, target.Length - length);
                if (e != Errno.OK) return Posix(e);
                if (n == 0) break;
                length += n;
            }
            return Errno.OK;
        }
        finally { opened.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Fallocate(in FuseContext ctx, in FallocateIn input)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        var port = LeaseHandle(input.Fh);
        if (port is null) return Errno.EBADF;
        try { return Posix(Fs(port, ctx.Cancellation).file_fallocate((FallocateFlags)input.Mode, (long)input.Offset, (long)input.Length)); }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Lseek(in FuseContext ctx, in LseekIn input, out long offset)
    {
        offset = 0;
        var port = LeaseHandle(input.Fh);
        if (port is null) return Errno.EBADF;
        try
        {
            var e = Io(port, ctx.Cancellation).io_seek((long)input.Offset, (SeekWhence)input.Whence, out offset);
            return Posix(e);
        }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    /// <remarks>file_copy_range to the destination handle's port; EXDEV (another server) goes back to the kernel,
    /// which then copies with READ and WRITE.</remarks>
    public override Errno CopyFileRange(in FuseContext ctx, in CopyFileRangeIn input, out ulong copied)
    {
        copied = 0;
        if (_options.ReadOnly) return Errno.EROFS;
        var src = LeaseHandle(input.FhIn);
        if (src is null) return Errno.EBADF;
        try
        {
            var dst = LeaseHandle(input.FhOut);
            if (dst is null) return Errno.EBADF;
            try
            {
                var e = Fs(src, ctx.Cancellation).file_copy_range((long)input.OffIn, dst.Right.Name, (long)input.OffOut,
                    (long)Math.Min(input.Len, long.MaxValue), (int)input.Flags, out long n);
                if (e != Errno.OK) return Posix(e);
                copied = (ulong)n;
                return Errno.OK;
            }
            finally { dst.Release(); }
        }
        finally { src.Release(); }
    }
}
