using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;

namespace Hurd.Fuse;

/// <summary>
/// Turns one FUSE request (bytes as read from /dev/fuse) into one call on a <see cref="FuseFileSystem"/>
/// and writes the reply bytes. Pure: no descriptors, no threads, so it is tested with synthetic bytes.
/// </summary>
/// <remarks>
/// <para>Checks, in order: the header is whole and its length matches; INIT came first (else EIO); the
/// opcode's fixed struct is present (else EINVAL); names are NUL-terminated (else EINVAL) and at most
/// 255 bytes (else ENAMETOOLONG; xattr names over 255 get ERANGE, values over 64 KiB E2BIG). Only then
/// is the filesystem called. An exception from the filesystem becomes EIO; the dispatcher never throws
/// for bad input.</para>
/// <para>FORGET, BATCH_FORGET and NOTIFY_REPLY are never answered (<see cref="Dispatch"/> returns 0),
/// nor an INTERRUPT whose victim was found; an unknown victim gets EAGAIN (the kernel requeues the
/// interrupt). Unknown opcodes get ENOSYS.</para>
/// <para>Thread safety: <see cref="Dispatch"/> may run on many threads at once, each with its own
/// <see cref="FuseRequestSlot"/> and buffers. INIT is answered before any other request is read.</para>
/// </remarks>
public sealed class FuseDispatcher
{
    /// <summary>Size of the reply header every reply starts with.</summary>
    public const int OutHeaderSize = 16;
    /// <summary>Size of the request header.</summary>
    public const int InHeaderSize = 40;
    /// <summary>Largest READLINK reply the kernel accepts (a page minus the NUL).</summary>
    public const int ReadlinkMax = 4095;

    private readonly FuseFileSystem _fs;
    private FuseRequestSlot[] _slots = [];
    private readonly Lock _slotsLock = new();
    private volatile bool _initialized;
    private int _destroyed;

    /// <summary>A dispatcher for <paramref name="fs"/>; <paramref name="connection"/> holds what to negotiate.</summary>
    public FuseDispatcher(FuseFileSystem fs, FuseConnection? connection = null)
    {
        _fs = fs;
        Connection = connection ?? new FuseConnection();
    }

    /// <summary>The negotiation: wishes before INIT, results after.</summary>
    public FuseConnection Connection { get; }
    /// <summary>True once INIT has been answered.</summary>
    public bool Initialized => _initialized;
    /// <summary>The filesystem served.</summary>
    public FuseFileSystem FileSystem => _fs;

    /// <summary>A new in-flight slot for one reader thread, registered for INTERRUPT lookups.</summary>
    public FuseRequestSlot CreateSlot()
    {
        var s = new FuseRequestSlot();
        lock (_slotsLock) _slots = [.. _slots, s];
        return s;
    }

    /// <summary>Calls <see cref="FuseFileSystem.Destroy"/> once, whichever of DESTROY or the session's end comes first.</summary>
    public void Destroy()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) == 0)
        {
            try { _fs.Destroy(); } catch { /* the connection is gone either way */ }
        }
    }

    /// <summary>
    /// Handles <paramref name="request"/> and writes the reply into <paramref name="reply"/>, which must hold at
    /// least <see cref="OutHeaderSize"/> + 4096 bytes (READ and READDIR replies are limited by its size).
    /// </summary>
    /// <returns>The reply's length in bytes, or 0 if no reply must be sent.</returns>
    public int Dispatch(ReadOnlySpan<byte> request, Span<byte> reply, FuseRequestSlot? slot = null)
    {
        if (request.Length < 16) return 0; // not even a unique to answer to
        if (request.Length < InHeaderSize) return Error(reply, MemoryMarshal.Read<ulong>(request.Slice(8)), Errno.EIO);
        FuseInHeader h = MemoryMarshal.Read<FuseInHeader>(request);
        if (h.Len != (uint)request.Length) return Error(reply, h.Unique, Errno.EIO);
        int extLen = h.TotalExtlen * 8;
        if (extLen > request.Length - InHeaderSize) return Error(reply, h.Unique, Errno.EINVAL);
        ReadOnlySpan<byte> body = request.Slice(InHeaderSize, request.Length - InHeaderSize - extLen);
        ReadOnlySpan<byte> ext = request.Slice(request.Length - extLen);

        switch (h.Opcode)
        {
            case FuseOpcode.Forget:
                if (_initialized && body.Length >= 8)
                {
                    try { _fs.Forget(h.NodeId, MemoryMarshal.Read<ulong>(body)); } catch { /* never answered */ }
                }
                return 0;
            case FuseOpcode.BatchForget:
                if (_initialized) BatchForget(body);
                return 0;
            case FuseOpcode.NotifyReply:
                return 0;
            case FuseOpcode.Interrupt:
                return Interrupt(in h, body, reply);
            case FuseOpcode.Init:
                return _initialized ? Error(reply, h.Unique, Errno.EIO) : Init(in h, body, reply);
        }
        if (!_initialized) return Error(reply, h.Unique, Errno.EIO);

        ReadOnlySpan<uint> groups = default;
        bool hasGroups = false;
        if (extLen > 0 && !ParseExtensions(ext, ref groups, ref hasGroups)) return Error(reply, h.Unique, Errno.EINVAL);

        CancellationToken token = slot is null ? CancellationToken.None : slot.Begin(h.Unique);
        t_handling = true;
        try
        {
            var ctx = new FuseContext(in h, groups, hasGroups, token);
            return Call(in ctx, in h, body, reply);
        }
        catch (Exception)
        {
            return Error(reply, h.Unique, Errno.EIO);
        }
        finally
        {
            t_handling = false;
            slot?.End();
        }
    }

    [ThreadStatic] private static bool t_handling;

    /// <summary>True while the current thread runs a filesystem handler for a kernel request (whatever it calls on the
    /// same thread, in-process IPC included, is on the kernel's behalf: the kernel already knows of its effects).</summary>
    public static bool HandlingRequest => t_handling;

    /// <summary>FOPEN_DIRECT_IO for a write-only open (<see cref="FuseConnection.WriteOnlyDirectIo"/>).</summary>
    private void WriteOnlyDirect(int openFlags, ref OpenOut open)
    {
        const int AccessMode = 3, WriteOnly = 1; // O_ACCMODE, O_WRONLY
        if (Connection.WriteOnlyDirectIo && (openFlags & AccessMode) == WriteOnly) open.OpenFlags |= OpenReplyFlags.DirectIo;
    }

    private int Call(in FuseContext ctx, in FuseInHeader h, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        ulong u = h.Unique;
        Errno e;
        ReadOnlySpan<byte> name;
        switch (h.Opcode)
        {
            case FuseOpcode.Lookup:
            {
                if ((e = OneName(body, out name)) != 0) return Error(reply, u, e);
                e = _fs.Lookup(in ctx, name, out EntryOut entry);
                return e != 0 ? Error(reply, u, e) : Entry(reply, u, in entry);
            }
            case FuseOpcode.Getattr:
            {
                TryRead(body, 0, out GetattrIn input);
                e = _fs.Getattr(in ctx, in input, out AttrOut attr);
                return e != 0 ? Error(reply, u, e) : Attr(reply, u, in attr);
            }
            case FuseOpcode.Setattr:
            {
                if (!TryRead(body, 88, out SetattrIn input)) return Error(reply, u, Errno.EINVAL);
                e = _fs.Setattr(in ctx, in input, out AttrOut attr);
                return e != 0 ? Error(reply, u, e) : Attr(reply, u, in attr);
            }
            case FuseOpcode.Readlink:
            {
                Span<byte> target = Payload(reply, ReadlinkMax);
                e = _fs.Readlink(in ctx, target, out int n);
                return e != 0 ? Error(reply, u, e) : Data(reply, u, Math.Clamp(n, 0, target.Length));
            }
            case FuseOpcode.Symlink:
            {
                if ((e = Name(ref body, out name)) != 0) return Error(reply, u, e);
                if ((e = Name(ref body, out ReadOnlySpan<byte> target, 4095)) != 0) return Error(reply, u, e);
                e = _fs.Symlink(in ctx, name, target, out EntryOut entry);
                return e != 0 ? Error(reply, u, e) : Entry(reply, u, in entry);
            }
            case FuseOpcode.Mknod:
            {
                int size = Connection.Minor >= 12 ? 16 : FuseKernel.CompatMknodInSize;
                if (!TryRead(body, size, out MknodIn input)) return Error(reply, u, Errno.EINVAL);
                body = body.Slice(size);
                if ((e = OneName(body, out name)) != 0) return Error(reply, u, e);
                e = _fs.Mknod(in ctx, name, in input, out EntryOut entry);
                return e != 0 ? Error(reply, u, e) : Entry(reply, u, in entry);
            }
            case FuseOpcode.Mkdir:
            {
                if (!TryRead(body, 8, out MkdirIn input)) return Error(reply, u, Errno.EINVAL);
                if ((e = OneName(body.Slice(8), out name)) != 0) return Error(reply, u, e);
                e = _fs.Mkdir(in ctx, name, in input, out EntryOut entry);
                return e != 0 ? Error(reply, u, e) : Entry(reply, u, in entry);
            }
            case FuseOpcode.Unlink:
                if ((e = OneName(body, out name)) != 0) return Error(reply, u, e);
                return Status(reply, u, _fs.Unlink(in ctx, name));
            case FuseOpcode.Rmdir:
                if ((e = OneName(body, out name)) != 0) return Error(reply, u, e);
                return Status(reply, u, _fs.Rmdir(in ctx, name));
            case FuseOpcode.Rename:
            case FuseOpcode.Rename2:
            {
                ulong newdir; RenameFlags flags = 0;
                if (h.Opcode == FuseOpcode.Rename)
                {
                    if (!TryRead(body, 8, out RenameIn r)) return Error(reply, u, Errno.EINVAL);
                    newdir = r.Newdir; body = body.Slice(8);
                }
                else
                {
                    if (!TryRead(body, 16, out Rename2In r)) return Error(reply, u, Errno.EINVAL);
                    newdir = r.Newdir; flags = r.Flags; body = body.Slice(16);
                }
                if ((e = Name(ref body, out name)) != 0) return Error(reply, u, e);
                if ((e = Name(ref body, out ReadOnlySpan<byte> newName)) != 0) return Error(reply, u, e);
                return Status(reply, u, _fs.Rename(in ctx, name, newdir, newName, flags));
            }
            case FuseOpcode.Link:
            {
                if (!TryRead(body, 8, out LinkIn input)) return Error(reply, u, Errno.EINVAL);
                if ((e = OneName(body.Slice(8), out name)) != 0) return Error(reply, u, e);
                e = _fs.Link(in ctx, input.Oldnodeid, name, out EntryOut entry);
                return e != 0 ? Error(reply, u, e) : Entry(reply, u, in entry);
            }
            case FuseOpcode.Open:
            case FuseOpcode.Opendir:
            {
                if (!TryRead(body, 8, out OpenIn input)) return Error(reply, u, Errno.EINVAL);
                OpenOut open;
                e = h.Opcode == FuseOpcode.Open ? _fs.Open(in ctx, in input, out open) : _fs.Opendir(in ctx, in input, out open);
                if (e != 0) return Error(reply, u, e);
                if (h.Opcode == FuseOpcode.Open) WriteOnlyDirect(input.Flags, ref open);
                return Ok(reply, u, in open);
            }
            case FuseOpcode.Read:
            {
                if (!TryRead(body, 24, out ReadIn input)) return Error(reply, u, Errno.EINVAL);
                Span<byte> data = Payload(reply, (int)Math.Min(input.Size, int.MaxValue));
                e = _fs.Read(in ctx, in input, data, out int n);
                return e != 0 ? Error(reply, u, e) : Data(reply, u, Math.Clamp(n, 0, data.Length));
            }
            case FuseOpcode.Write:
            {
                int size = Connection.Minor >= 9 ? 40 : FuseKernel.CompatWriteInSize;
                if (!TryRead(body, size, out WriteIn input)) return Error(reply, u, Errno.EINVAL);
                ReadOnlySpan<byte> data = body.Slice(size);
                if (input.Size > (uint)data.Length) return Error(reply, u, Errno.EINVAL);
                e = _fs.Write(in ctx, in input, data.Slice(0, (int)input.Size), out uint written);
                if (e != 0) return Error(reply, u, e);
                var wo = new WriteOut { Size = Math.Min(written, input.Size) };
                return Ok(reply, u, in wo);
            }
            case FuseOpcode.Statfs:
            {
                e = _fs.Statfs(in ctx, out StatfsOut st);
                if (e != 0) return Error(reply, u, e);
                return Ok(reply, u, in st, Connection.Minor < 4 ? FuseKernel.CompatStatfsSize : 80);
            }
            case FuseOpcode.Release:
            case FuseOpcode.Releasedir:
            {
                if (!TryRead(body, 16, out ReleaseIn input)) return Error(reply, u, Errno.EINVAL);
                return Status(reply, u, h.Opcode == FuseOpcode.Release ? _fs.Release(in ctx, in input) : _fs.Releasedir(in ctx, in input));
            }
            case FuseOpcode.Fsync:
            case FuseOpcode.Fsyncdir:
            {
                if (!TryRead(body, 16, out FsyncIn input)) return Error(reply, u, Errno.EINVAL);
                return Status(reply, u, h.Opcode == FuseOpcode.Fsync ? _fs.Fsync(in ctx, in input) : _fs.Fsyncdir(in ctx, in input));
            }
            case FuseOpcode.Setxattr:
            {
                int size = Connection.Has(InitFlags.SetxattrExt) ? 16 : FuseKernel.CompatSetxattrInSize;
                if (!TryRead(body, size, out SetxattrIn input)) return Error(reply, u, Errno.EINVAL);
                body = body.Slice(size);
                if ((e = Name(ref body, out name, FuseKernel.XattrNameMax, Errno.ERANGE)) != 0) return Error(reply, u, e);
                if (input.Size > FuseKernel.XattrSizeMax) return Error(reply, u, Errno.E2BIG);
                if (input.Size > (uint)body.Length) return Error(reply, u, Errno.EINVAL);
                return Status(reply, u, _fs.Setxattr(in ctx, name, body.Slice(0, (int)input.Size), in input));
            }
            case FuseOpcode.Getxattr:
            {
                if (!TryRead(body, 8, out GetxattrIn input)) return Error(reply, u, Errno.EINVAL);
                body = body.Slice(8);
                if ((e = Name(ref body, out name, FuseKernel.XattrNameMax, Errno.ERANGE)) != 0) return Error(reply, u, e);
                return Xattr(in ctx, input.Size, name, true, reply, u);
            }
            case FuseOpcode.Listxattr:
            {
                if (!TryRead(body, 8, out GetxattrIn input)) return Error(reply, u, Errno.EINVAL);
                return Xattr(in ctx, input.Size, default, false, reply, u);
            }
            case FuseOpcode.Removexattr:
                if ((e = Name(ref body, out name, FuseKernel.XattrNameMax, Errno.ERANGE)) != 0) return Error(reply, u, e);
                return Status(reply, u, _fs.Removexattr(in ctx, name));
            case FuseOpcode.Flush:
            {
                if (!TryRead(body, 24, out FlushIn input)) return Error(reply, u, Errno.EINVAL);
                return Status(reply, u, _fs.Flush(in ctx, in input));
            }
            case FuseOpcode.Readdir:
            case FuseOpcode.Readdirplus:
            {
                if (!TryRead(body, 24, out ReadIn input)) return Error(reply, u, Errno.EINVAL);
                var w = new DirentWriter(Payload(reply, (int)Math.Min(input.Size, int.MaxValue)), h.Opcode == FuseOpcode.Readdirplus);
                e = w.IsPlus ? _fs.Readdirplus(in ctx, in input, ref w) : _fs.Readdir(in ctx, in input, ref w);
                return e != 0 ? Error(reply, u, e) : Data(reply, u, w.Length);
            }
            case FuseOpcode.Getlk:
            {
                if (!TryRead(body, 48, out LkIn input)) return Error(reply, u, Errno.EINVAL);
                e = _fs.Getlk(in ctx, in input, out FuseFileLock lk);
                var lo = new LkOut { Lk = lk };
                return e != 0 ? Error(reply, u, e) : Ok(reply, u, in lo);
            }
            case FuseOpcode.Setlk:
            case FuseOpcode.Setlkw:
            {
                if (!TryRead(body, 48, out LkIn input)) return Error(reply, u, Errno.EINVAL);
                return Status(reply, u, _fs.Setlk(in ctx, in input, h.Opcode == FuseOpcode.Setlkw));
            }
            case FuseOpcode.Access:
            {
                if (!TryRead(body, 8, out AccessIn input)) return Error(reply, u, Errno.EINVAL);
                return Status(reply, u, _fs.Access(in ctx, input.Mask));
            }
            case FuseOpcode.Create:
            {
                if (!TryRead(body, 16, out CreateIn input)) return Error(reply, u, Errno.EINVAL);
                if ((e = OneName(body.Slice(16), out name)) != 0) return Error(reply, u, e);
                e = _fs.Create(in ctx, name, in input, out EntryOut entry, out OpenOut open);
                if (e != 0) return Error(reply, u, e);
                WriteOnlyDirect(input.Flags, ref open);
                return EntryOpen(reply, u, in entry, in open);
            }
            case FuseOpcode.Tmpfile:
            {
                if (!TryRead(body, 16, out CreateIn input)) return Error(reply, u, Errno.EINVAL);
                e = _fs.Tmpfile(in ctx, in input, out EntryOut entry, out OpenOut open);
                return e != 0 ? Error(reply, u, e) : EntryOpen(reply, u, in entry, in open);
            }
            case FuseOpcode.Destroy:
                Destroy();
                return Status(reply, u, Errno.OK);
            case FuseOpcode.Fallocate:
            {
                if (!TryRead(body, 32, out FallocateIn input)) return Error(reply, u, Errno.EINVAL);
                return Status(reply, u, _fs.Fallocate(in ctx, in input));
            }
            case FuseOpcode.Lseek:
            {
                if (!TryRead(body, 24, out LseekIn input)) return Error(reply, u, Errno.EINVAL);
                e = _fs.Lseek(in ctx, in input, out long off);
                var lo = new LseekOut { Offset = (ulong)off };
                return e != 0 ? Error(reply, u, e) : Ok(reply, u, in lo);
            }
            case FuseOpcode.CopyFileRange:
            case FuseOpcode.CopyFileRange64:
            {
                if (!TryRead(body, 56, out CopyFileRangeIn input)) return Error(reply, u, Errno.EINVAL);
                e = _fs.CopyFileRange(in ctx, in input, out ulong copied);
                if (e != 0) return Error(reply, u, e);
                if (h.Opcode == FuseOpcode.CopyFileRange64) { var co = new CopyFileRangeOut { BytesCopied = copied }; return Ok(reply, u, in co); }
                var wo = new WriteOut { Size = (uint)Math.Min(copied, uint.MaxValue) };
                return Ok(reply, u, in wo);
            }
            case FuseOpcode.Syncfs:
                return Status(reply, u, _fs.Syncfs(in ctx));
            case FuseOpcode.Statx:
            {
                if (!TryRead(body, 24, out StatxIn input)) return Error(reply, u, Errno.EINVAL);
                e = _fs.Statx(in ctx, in input, out StatxOut sx);
                return e != 0 ? Error(reply, u, e) : Ok(reply, u, in sx);
            }
            default:
                // BMAP, IOCTL, POLL, SETUPMAPPING, REMOVEMAPPING, CUSE_INIT and anything newer than us.
                return Error(reply, u, Errno.ENOSYS);
        }
    }

    private int Xattr(in FuseContext ctx, uint size, ReadOnlySpan<byte> name, bool get, Span<byte> reply, ulong u)
    {
        Errno e;
        int n;
        if (size == 0)
        {
            e = get ? _fs.Getxattr(in ctx, name, default, out n) : _fs.Listxattr(in ctx, default, out n);
            if (e != 0) return Error(reply, u, e);
            var go = new GetxattrOut { Size = (uint)Math.Max(n, 0) };
            return Ok(reply, u, in go);
        }
        Span<byte> value = Payload(reply, (int)Math.Min(size, int.MaxValue));
        e = get ? _fs.Getxattr(in ctx, name, value, out n) : _fs.Listxattr(in ctx, value, out n);
        if (e != 0) return Error(reply, u, e);
        if (n > value.Length) return Error(reply, u, Errno.ERANGE);
        return Data(reply, u, Math.Max(n, 0));
    }

    private int Init(in FuseInHeader h, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        if (body.Length < 8) return Error(reply, h.Unique, Errno.EINVAL);
        TryRead(body, 8, out InitIn init);
        var c = Connection;
        var o = new InitOut { Major = FuseKernel.Major, Minor = FuseKernel.Minor };
        if (init.Major > FuseKernel.Major) return Ok(reply, h.Unique, in o); // the kernel retries with 7.x
        if (init.Major < FuseKernel.Major) return Error(reply, h.Unique, Errno.EPROTO);

        c.KernelMajor = init.Major;
        c.KernelMinor = init.Minor;
        c.KernelMaxReadahead = init.MaxReadahead;
        InitFlags kernel = (InitFlags)init.Flags;
        if ((kernel & InitFlags.InitExt) != 0) kernel |= (InitFlags)((ulong)init.Flags2 << 32);
        c.KernelFlags = kernel;
        c.Minor = Math.Min(FuseKernel.Minor, init.Minor);
        try { _fs.Init(c); } catch (Exception) { return Error(reply, h.Unique, Errno.EIO); }

        InitFlags agreed = c.Want & kernel & ~InitFlags.InitExt;
        if (((ulong)agreed >> 32) != 0) agreed |= InitFlags.InitExt;
        c.Flags = agreed;
        uint maxWrite = Math.Max(c.MaxWrite, 4096);
        o.Minor = c.Minor;
        o.MaxReadahead = c.MaxReadahead == 0 ? init.MaxReadahead : Math.Min(c.MaxReadahead, init.MaxReadahead);
        o.Flags = (uint)agreed;
        o.Flags2 = (uint)((ulong)agreed >> 32);
        o.MaxBackground = c.MaxBackground;
        o.CongestionThreshold = c.CongestionThreshold;
        o.MaxWrite = maxWrite;
        o.TimeGran = c.TimeGran;
        if ((agreed & InitFlags.MaxPages) != 0) o.MaxPages = (ushort)Math.Min((maxWrite - 1) / 4096 + 1, ushort.MaxValue);
        int size = c.Minor < 5 ? FuseKernel.CompatInitOutSize : c.Minor < 23 ? FuseKernel.Compat22InitOutSize : 64;
        int n = Ok(reply, h.Unique, in o, size);
        _initialized = true;
        return n;
    }

    private int Interrupt(in FuseInHeader h, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        if (!TryRead(body, 8, out InterruptIn input)) return Error(reply, h.Unique, Errno.EINVAL);
        foreach (FuseRequestSlot s in _slots)
            if (s.TryInterrupt(input.Unique)) return 0;
        return Error(reply, h.Unique, Errno.EAGAIN);
    }

    private void BatchForget(ReadOnlySpan<byte> body)
    {
        if (!TryRead(body, 8, out BatchForgetIn input)) return;
        int fit = (body.Length - 8) / 16;
        int n = (int)Math.Min(input.Count, (uint)fit);
        ReadOnlySpan<ForgetOne> items = MemoryMarshal.Cast<byte, ForgetOne>(body.Slice(8, n * 16));
        try { _fs.BatchForget(items); } catch { /* never answered */ }
    }

    private static bool ParseExtensions(ReadOnlySpan<byte> ext, ref ReadOnlySpan<uint> groups, ref bool hasGroups)
    {
        while (ext.Length > 0)
        {
            if (ext.Length < 8) return false;
            ExtHeader x = MemoryMarshal.Read<ExtHeader>(ext);
            if (x.Size < 8 || x.Size > (uint)ext.Length || (x.Size & 7) != 0) return false;
            if (x.Type == FuseKernel.ExtGroups)
            {
                if (x.Size < 12) return false;
                uint nr = MemoryMarshal.Read<uint>(ext.Slice(8));
                if (nr > (x.Size - 12) / 4) return false;
                groups = MemoryMarshal.Cast<byte, uint>(ext.Slice(12, (int)nr * 4));
                hasGroups = true;
            }
            ext = ext.Slice((int)x.Size);
        }
        return true;
    }

    /// <summary>
    /// Undoes what a successful reply would have given the kernel when writing it failed with ENOENT (the
    /// request was interrupted or aborted): <see cref="FuseFileSystem.Forget"/> for each lookup count, and
    /// <see cref="FuseFileSystem.Release"/> / <see cref="FuseFileSystem.Releasedir"/> for an opened handle.
    /// </summary>
    public void Undeliver(ReadOnlySpan<byte> request, ReadOnlySpan<byte> reply)
    {
        if (request.Length < InHeaderSize || reply.Length < OutHeaderSize) return;
        FuseInHeader h = MemoryMarshal.Read<FuseInHeader>(request);
        FuseOutHeader o = MemoryMarshal.Read<FuseOutHeader>(reply);
        if (o.Error != 0) return;
        ReadOnlySpan<byte> body = reply.Slice(OutHeaderSize);
        ReadOnlySpan<byte> req = request.Slice(InHeaderSize);
        var ctx = new FuseContext(in h, default, false, CancellationToken.None);
        try
        {
            switch (h.Opcode)
            {
                case FuseOpcode.Lookup: case FuseOpcode.Mknod: case FuseOpcode.Mkdir:
                case FuseOpcode.Symlink: case FuseOpcode.Link:
                    ForgetEntry(body);
                    break;
                case FuseOpcode.Create: case FuseOpcode.Tmpfile:
                {
                    int entrySize = Connection.Minor < 9 ? FuseKernel.CompatEntryOutSize : 128;
                    ForgetEntry(body);
                    if (body.Length >= entrySize + 16 && req.Length >= 4)
                    {
                        var ri = new ReleaseIn { Fh = MemoryMarshal.Read<OpenOut>(body.Slice(entrySize)).Fh, Flags = MemoryMarshal.Read<int>(req) };
                        _fs.Release(in ctx, in ri);
                    }
                    break;
                }
                case FuseOpcode.Open: case FuseOpcode.Opendir:
                    if (body.Length >= 16 && req.Length >= 4)
                    {
                        var ri = new ReleaseIn { Fh = MemoryMarshal.Read<OpenOut>(body).Fh, Flags = MemoryMarshal.Read<int>(req) };
                        if (h.Opcode == FuseOpcode.Open) _fs.Release(in ctx, in ri); else _fs.Releasedir(in ctx, in ri);
                    }
                    break;
                case FuseOpcode.Readdirplus:
                    while (body.Length >= 152)
                    {
                        ulong node = MemoryMarshal.Read<ulong>(body);
                        int len = (int)MemoryMarshal.Read<uint>(body.Slice(144));
                        int size = DirentWriter.DirentplusSize(len);
                        if (size > body.Length) break;
                        if (node != 0 && !DirentWriter.IsDotOrDotDot(body.Slice(152, len))) _fs.Forget(node, 1);
                        body = body.Slice(size);
                    }
                    break;
            }
        }
        catch { /* best effort */ }
    }

    private void ForgetEntry(ReadOnlySpan<byte> body)
    {
        if (body.Length < 8) return;
        ulong node = MemoryMarshal.Read<ulong>(body);
        if (node != 0) _fs.Forget(node, 1);
    }

    // --- parsing ---

    /// <summary>Reads a struct of which at least <paramref name="min"/> bytes are present; missing tail bytes read as 0 (older protocol minors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryRead<T>(ReadOnlySpan<byte> body, int min, out T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (body.Length >= size) { value = MemoryMarshal.Read<T>(body); return true; }
        value = default;
        if (body.Length < min) return false;
        body.CopyTo(MemoryMarshal.AsBytes(new Span<T>(ref value)));
        return true;
    }

    /// <summary>Takes one NUL-terminated name from the front of <paramref name="body"/>.</summary>
    private static Errno Name(scoped ref ReadOnlySpan<byte> body, out ReadOnlySpan<byte> name, int max = FuseKernel.NameMax, Errno tooLong = Errno.ENAMETOOLONG)
    {
        int nul = body.IndexOf((byte)0);
        if (nul <= 0) { name = default; return Errno.EINVAL; }
        name = body.Slice(0, nul);
        body = body.Slice(nul + 1);
        return nul > max ? tooLong : Errno.OK;
    }

    private static Errno OneName(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> name) => Name(ref body, out name);

    // --- replies ---

    private static Span<byte> Payload(Span<byte> reply, int want) =>
        reply.Slice(OutHeaderSize, Math.Min(want, reply.Length - OutHeaderSize));

    private static int Header(Span<byte> reply, ulong unique, int error, int len)
    {
        var o = new FuseOutHeader { Len = (uint)len, Error = error, Unique = unique };
        MemoryMarshal.Write(reply, in o);
        return len;
    }

    /// <summary>Writes an error reply (header only); an errno outside (0, 512) becomes EIO.</summary>
    public static int Error(Span<byte> reply, ulong unique, Errno e)
    {
        int v = (int)e.ToPosix();
        if (v <= 0 || v >= 512) v = (int)Errno.EIO;
        return Header(reply, unique, -v, OutHeaderSize);
    }

    private static int Status(Span<byte> reply, ulong unique, Errno e) =>
        e == Errno.OK ? Header(reply, unique, 0, OutHeaderSize) : Error(reply, unique, e);

    private static int Data(Span<byte> reply, ulong unique, int n) => Header(reply, unique, 0, OutHeaderSize + n);

    private static int Ok<T>(Span<byte> reply, ulong unique, in T value, int size = -1) where T : unmanaged
    {
        MemoryMarshal.Write(reply.Slice(OutHeaderSize), in value);
        int n = size < 0 ? Unsafe.SizeOf<T>() : size;
        return Header(reply, unique, 0, OutHeaderSize + n);
    }

    private int Entry(Span<byte> reply, ulong unique, in EntryOut entry) =>
        Ok(reply, unique, in entry, Connection.Minor < 9 ? FuseKernel.CompatEntryOutSize : 128);

    private int Attr(Span<byte> reply, ulong unique, in AttrOut attr) =>
        Ok(reply, unique, in attr, Connection.Minor < 9 ? FuseKernel.CompatAttrOutSize : 104);

    private int EntryOpen(Span<byte> reply, ulong unique, in EntryOut entry, in OpenOut open)
    {
        int es = Connection.Minor < 9 ? FuseKernel.CompatEntryOutSize : 128;
        MemoryMarshal.Write(reply.Slice(OutHeaderSize), in entry);
        MemoryMarshal.Write(reply.Slice(OutHeaderSize + es), in open);
        return Header(reply, unique, 0, OutHeaderSize + es + 16);
    }
}
