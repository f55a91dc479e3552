using System.Text;

namespace Hurd.Translators.Fuse;

using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using FuseDirentType = Hurd.Fuse.Abi.DirentType;
using FuseDirentWriter = Hurd.Fuse.DirentWriter;
using HurdDirentReader = Hurd.Interfaces.DirentReader;
using RenameFlags = Hurd.Fuse.Abi.RenameFlags;

public sealed partial class FuseBridge
{
    [ThreadStatic] private static byte[]? t_dirBuffer;

    private const int DirBufferSize = 64 * 1024;

    /// <inheritdoc/>
    /// <remarks>A regular file is dir_lookup(O_CREAT|O_EXCL); a FIFO, socket or device is made the Hurd way (as glibc's
    /// mknod does): dir_mkfile, file_set_translator with the short-circuited translator ("/hurd/fifo", "/hurd/ifsock",
    /// "/hurd/chrdev MAJOR MINOR", "/hurd/blkdev MAJOR MINOR"), then dir_link.</remarks>
    public override Errno Mknod(in FuseContext ctx, ReadOnlySpan<byte> name, in MknodIn input, out EntryOut entry)
    {
        entry = default;
        if (_options.ReadOnly) return Errno.EROFS;
        var type = (FileMode)(input.Mode & 0xF000);
        var perm = CreationMode(in ctx, input.Mode, input.Umask);
        if (type is FileMode.None or FileMode.Regular)
            return CreateRegular(in ctx, name, perm, out entry);
        string? argz = type switch
        {
            FileMode.Fifo => ShortCircuitTranslators.Fifo + "\0",
            FileMode.Socket => ShortCircuitTranslators.Socket + "\0",
            FileMode.CharDevice => $"{ShortCircuitTranslators.CharDevice}\0{Major(input.Rdev)}\0{Minor(input.Rdev)}\0",
            FileMode.BlockDevice => $"{ShortCircuitTranslators.BlockDevice}\0{Major(input.Rdev)}\0{Minor(input.Rdev)}\0",
            _ => null,
        };
        if (argz is null) return Errno.EINVAL;
        return MakeShortCircuited(in ctx, name, perm, Encoding.UTF8.GetBytes(argz), out entry);
    }

    private static uint Major(uint rdev) => (rdev >> 8) & 0xFFF;
    private static uint Minor(uint rdev) => (rdev & 0xFF) | ((rdev >> 12) & 0xFFF00);

    private Errno CreateRegular(in FuseContext ctx, ReadOnlySpan<byte> name, FileMode perm, out EntryOut entry)
    {
        entry = default;
        var id = Who(in ctx);
        Errno e;
        if (id.IsRoot && _nodes.Get(ctx.NodeId) is { } dir && Named(dir)
            && TryRefLookup(dir, name, OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoLink, perm, false, ctx.Cancellation,
                out e, out var rn, out var rst, out _))
        {
            if (e != Errno.OK) return e;
            FillEntry(dir, rn, in rst, out entry);
            return Errno.OK;
        }
        e = NodePort(in ctx, ctx.NodeId, id, out var parent, out var pport);
        if (e != Errno.OK) return e;
        PortRef child;
        try { e = Walk(pport, name, OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoLink, perm, id, ctx.Cancellation, out child); }
        finally { pport.Release(); }
        if (e != Errno.OK) return e;
        e = Enter(parent, name, child, isNodePort: true, id, ctx.Cancellation, out var node, out var st);
        if (e != Errno.OK) return e;
        FillEntry(parent, node, in st, out entry);
        return Errno.OK;
    }

    /// <summary>dir_mkfile + file_set_translator(passive <paramref name="argz"/>) + dir_link(excl), then a lookup.</summary>
    private Errno MakeShortCircuited(in FuseContext ctx, ReadOnlySpan<byte> name, FileMode perm, ReadOnlySpan<byte> argz, out EntryOut entry)
    {
        entry = default;
        var id = Who(in ctx);
        var e = NodePort(in ctx, ctx.NodeId, id, out _, out var pport);
        if (e != Errno.OK) return e;
        try
        {
            var fs = Fs(pport, ctx.Cancellation);
            e = fs.dir_mkfile(OpenFlags.Write, perm, out var newNode);
            if (e != Errno.OK) return Posix(e);
            var right = SendRight.FromName(newNode);
            if (right is null) return Errno.EIO;
            var file = Own(right);
            try
            {
                e = Fs(file, ctx.Cancellation).file_set_translator(TransFlags.Set | TransFlags.Excl, TransFlags.None, GoAwayFlags.None, argz, PortName.Null);
                if (e != Errno.OK) return Posix(e);
                e = fs.dir_link(file.Right.Name, name, excl: true);
                if (e != Errno.OK) return Posix(e);
            }
            finally { file.Release(); }
        }
        finally { pport.Release(); }
        return LookupEntry(in ctx, ctx.NodeId, name, id, out entry);
    }

    /// <inheritdoc/>
    public override Errno Mkdir(in FuseContext ctx, ReadOnlySpan<byte> name, in MkdirIn input, out EntryOut entry)
    {
        entry = default;
        if (_options.ReadOnly) return Errno.EROFS;
        var id = Who(in ctx);
        Errno e;
        if (id.IsRoot && _nodes.Get(ctx.NodeId) is { } dir && Named(dir))
        {
            e = FsExt(_session, ctx.Cancellation).noderef_mkdir(dir.Ref, name, CreationMode(in ctx, input.Mode, input.Umask), out ulong r, out var st);
            if (!NoRefs(e) && e != Errno.ESTALE)
            {
                if (e != Errno.OK) return Posix(e);
                var n = _nodes.EnterRef(new NodeKey(st.Dev, st.Ino, st.Generation), r);
                FillEntry(dir, n, in st, out entry);
                return Errno.OK;
            }
        }
        e = NodePort(in ctx, ctx.NodeId, id, out _, out var pport);
        if (e != Errno.OK) return e;
        try
        {
            e = Fs(pport, ctx.Cancellation).dir_mkdir(name, CreationMode(in ctx, input.Mode, input.Umask));
            if (e != Errno.OK) return Posix(e);
        }
        finally { pport.Release(); }
        return LookupEntry(in ctx, ctx.NodeId, name, id, out entry);
    }

    /// <inheritdoc/>
    /// <remarks>The Hurd's way (glibc's symlinkat): dir_mkfile, file_set_translator("/hurd/symlink\0TARGET\0"), which the
    /// filesystem short-circuits into a symlink, then dir_link.</remarks>
    public override Errno Symlink(in FuseContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out EntryOut entry)
    {
        entry = default;
        if (_options.ReadOnly) return Errno.EROFS;
        if (target.IsEmpty) return Errno.ENOENT;
        if (target.Length >= 4096) return Errno.ENAMETOOLONG;
        var prefix = Encoding.ASCII.GetBytes(ShortCircuitTranslators.Symlink + "\0");
        var argz = new byte[prefix.Length + target.Length + 1];
        prefix.CopyTo(argz, 0);
        target.CopyTo(argz.AsSpan(prefix.Length));
        return MakeShortCircuited(in ctx, name, (FileMode)0x1FF, argz, out entry);
    }

    /// <inheritdoc/>
    public override Errno Link(in FuseContext ctx, ulong oldNodeId, ReadOnlySpan<byte> newName, out EntryOut entry)
    {
        entry = default;
        if (_options.ReadOnly) return Errno.EROFS;
        var id = Who(in ctx);
        var e = NodePort(in ctx, oldNodeId, id, out _, out var file);
        if (e != Errno.OK) return e;
        try
        {
            e = NodePort(in ctx, ctx.NodeId, id, out _, out var dir);
            if (e != Errno.OK) return e;
            try
            {
                e = Fs(dir, ctx.Cancellation).dir_link(file.Right.Name, newName, excl: true);
                if (e != Errno.OK) return Posix(e);
            }
            finally { dir.Release(); }
        }
        finally { file.Release(); }
        return LookupEntry(in ctx, ctx.NodeId, newName, id, out entry);
    }

    /// <inheritdoc/>
    public override Errno Unlink(in FuseContext ctx, ReadOnlySpan<byte> name)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        if (TryRefUnlink(in ctx, name, directory: false, out var re)) return re;
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var dir);
        if (e != Errno.OK) return e;
        try { return Posix(Fs(dir, ctx.Cancellation).dir_unlink(name)); }
        finally { dir.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Rmdir(in FuseContext ctx, ReadOnlySpan<byte> name)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        if (TryRefUnlink(in ctx, name, directory: true, out var re)) return re;
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var dir);
        if (e != Errno.OK) return e;
        try { return Posix(Fs(dir, ctx.Cancellation).dir_rmdir(name)); }
        finally { dir.Release(); }
    }

    /// <summary>UNLINK / RMDIR by root in a <see cref="Named"/> directory: noderef_unlink on the session. False to use the
    /// directory's port instead.</summary>
    private bool TryRefUnlink(in FuseContext ctx, ReadOnlySpan<byte> name, bool directory, out Errno e)
    {
        e = Errno.OK;
        if (ctx.Uid != 0 || _nodes.Get(ctx.NodeId) is not { } dir || !Named(dir)) return false;
        e = FsExt(_session, ctx.Cancellation).noderef_unlink(dir.Ref, name, directory);
        if (NoRefs(e) || e == Errno.ESTALE) return false;
        e = Posix(e);
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>A plain rename or RENAME_NOREPLACE is the Hurd's dir_rename (excl); RENAME_EXCHANGE goes through the
    /// fs_ext extension dir_rename2, which the fs protocol lacks. RENAME_WHITEOUT is EINVAL.</remarks>
    public override Errno Rename(in FuseContext ctx, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange)) != 0) return Errno.EINVAL;
        if (_options.ReadOnly) return Errno.EROFS;
        var id = Who(in ctx);
        var e = NodePort(in ctx, ctx.NodeId, id, out var fromDir, out var from);
        if (e != Errno.OK) return e;
        try
        {
            e = NodePort(in ctx, newParent, id, out var toDir, out var to);
            if (e != Errno.OK) return e;
            try
            {
                bool exchange = (flags & RenameFlags.Exchange) != 0;
                if (exchange)
                {
                    e = new FsExtClient(from.Right) { TimeoutMs = _timeoutMs, Cancellation = ctx.Cancellation }
                        .dir_rename2(name, to.Right.Name, newName, (Hurd.Interfaces.RenameatFlags)(int)flags);
                    // A server without fs_ext cannot exchange: EINVAL, what the kernel expects for an unsupported flag.
                    if (e is Errno.MIG_BAD_ID or Errno.EOPNOTSUPP) return Errno.EINVAL;
                }
                else e = Fs(from, ctx.Cancellation).dir_rename(name, to.Right.Name, newName, (flags & RenameFlags.NoReplace) != 0);
                if (e != Errno.OK) return Posix(e);
                // The kernel moves the cached name with its entry timeout: into a directory not everyone may search, the
                // name would let others walk on through it without the translator's check until it expires.
                if (!SearchableByAll(toDir)) _ = Session?.NotifyInvalEntry(newParent, newName, expireOnly: true);
                if (exchange && !SearchableByAll(fromDir)) _ = Session?.NotifyInvalEntry(ctx.NodeId, name, expireOnly: true);
                return Errno.OK;
            }
            finally { to.Release(); }
        }
        finally { from.Release(); }
    }

    /// <inheritdoc/>
    /// <remarks>dir_lookup(name, O_CREAT | the open modes) from the caller's port of the directory: the port it returns is
    /// the new handle; the node gets a uid-0 port by reopening it with no open modes (root) or a second lookup.</remarks>
    public override Errno Create(in FuseContext ctx, ReadOnlySpan<byte> name, in CreateIn input, out EntryOut entry, out OpenOut open)
    {
        entry = default;
        open = default;
        if (_options.ReadOnly) return Errno.EROFS;
        var id = Who(in ctx);
        var flags = OpenModes(input.Flags) | OpenFlags.Create | OpenFlags.NoLink;
        if ((input.Flags & OpenFlagsLinux.O_EXCL) != 0) flags |= OpenFlags.Exclusive;
        bool append = (flags & (OpenFlags.Append | OpenFlags.Write)) == (OpenFlags.Append | OpenFlags.Write);
        Errno e;
        // Root in a directory named by reference: one noderef_lookup creates, opens (the handle) and names the node.
        if (id.IsRoot && _nodes.Get(ctx.NodeId) is { } dir && Named(dir)
            && TryRefLookup(dir, name, flags, CreationMode(in ctx, input.Mode, input.Umask), true, ctx.Cancellation,
                out e, out var rn, out var rst, out var handle))
        {
            if (e != Errno.OK) return e;
            FillEntry(dir, rn, in rst, out entry);
            open.Fh = AddHandle(handle!, rn, append, root: true);
            bool keep1 = _options.KeepCache || (_options.AutoCache && rn.CacheStillValid(in rst));
            open.OpenFlags = OpenReplyFlags.NoFlush | (keep1 ? OpenReplyFlags.KeepCache : OpenReplyFlags.None);
            return Errno.OK;
        }
        e = NodePort(in ctx, ctx.NodeId, id, out var parent, out var pport);
        if (e != Errno.OK) return e;
        PortRef opened;
        try { e = Walk(pport, name, flags, CreationMode(in ctx, input.Mode, input.Umask), id, ctx.Cancellation, out opened); }
        finally { pport.Release(); }
        if (e != Errno.OK) return e;
        opened.TryAcquire(); // one reference for the handle, one that Enter consumes
        e = Enter(parent, name, opened, isNodePort: false, id, ctx.Cancellation, out var node, out var st);
        if (e != Errno.OK) { opened.Release(); return e; }
        FillEntry(parent, node, in st, out entry);
        open.Fh = AddHandle(opened, node, append, id.IsRoot);
        // A new (or, without O_EXCL, existing) file: the cache stamp starts at what Enter saw.
        bool keep = _options.KeepCache || (_options.AutoCache && node.CacheStillValid(in st));
        open.OpenFlags = OpenReplyFlags.NoFlush | (keep ? OpenReplyFlags.KeepCache : OpenReplyFlags.None);
        return Errno.OK;
    }

    /// <inheritdoc/>
    public override Errno Opendir(in FuseContext ctx, in OpenIn input, out OpenOut open)
    {
        open = default;
        var id = Who(in ctx);
        if (id.IsRoot && TryRefOpen(in ctx, OpenFlags.Read | OpenFlags.Directory | OpenFlags.NoLink, out var rnode, out var rport, out var re))
        {
            if (re != Errno.OK) return re;
            open.Fh = AddHandle(rport!, rnode);
            return Errno.OK;
        }
        var e = NodePort(in ctx, ctx.NodeId, id, out var node, out var port);
        if (e != Errno.OK) return e;
        PortRef opened;
        try { e = Walk(port, default, OpenFlags.Read | OpenFlags.Directory | OpenFlags.NoLink, 0, id, ctx.Cancellation, out opened); }
        finally { port.Release(); }
        if (e != Errno.OK) return e;
        open.Fh = AddHandle(opened, node);
        return Errno.OK;
    }

    /// <summary>
    /// Expires (FUSE_NOTIFY_INVAL_ENTRY with FUSE_EXPIRE_ONLY) every name of directory <paramref name="dir"/> the kernel
    /// may hold, so that the next walk through one asks LOOKUP, which the translator checks; the owner's walks go on
    /// (and a mount on a name stays), where a full invalidation would detach it. The directory is read as root and the
    /// notifications queued here, in the handler that saw the change, so that they are sent as soon as the kernel
    /// releases the directory's lock this request holds; names past what the session's queue takes now are queued from
    /// a pool thread, which may wait for room (a handler must not: the notifications ahead wait for that lock). Names
    /// the kernel does not hold cost one notification each and change nothing.
    /// </summary>
    private void ForgetCachedNames(BridgeNode dir)
    {
        if (Session is { } session) ExpireNames(dir, session, 0, inHandler: true);
    }

    private void ExpireNames(BridgeNode dir, FuseSession session, int from, bool inHandler)
    {
        if (PortFor(dir, BridgeIdentity.Root, default, out var port) != Errno.OK) return;
        PortRef opened;
        Errno e;
        try { e = Walk(port, default, OpenFlags.Read | OpenFlags.Directory | OpenFlags.NoLink, 0, BridgeIdentity.Root, default, out opened); }
        finally { port.Release(); }
        if (e != Errno.OK) return;
        try
        {
            var buf = GC.AllocateUninitializedArray<byte>(DirBufferSize);
            for (int entry = from; ;)
            {
                e = Fs(opened, default).dir_readdir(buf, out int len, entry, 512, buf.Length, out int amount);
                if (e != Errno.OK || amount <= 0) return;
                var reader = new HurdDirentReader(buf.AsSpan(0, len));
                for (int i = 0; reader.TryRead(out var d); i++)
                {
                    if (FuseDirentWriter.IsDotOrDotDot(d.Name)) continue;
                    var sent = session.NotifyInvalEntry(dir.NodeId, d.Name, expireOnly: true, waitForRoom: !inHandler);
                    if (inHandler && sent.IsCompleted && sent.Result == Errno.EAGAIN)
                    {
                        int rest = entry + i;
                        ThreadPool.UnsafeQueueUserWorkItem(static w => w.Bridge.ExpireNames(w.Dir, w.Session, w.From, inHandler: false),
                            (Bridge: this, Dir: dir, Session: session, From: rest), preferLocal: false);
                        return;
                    }
                }
                if (reader.Error || !session.IsRunning) return;
                entry += amount;
            }
        }
        finally { opened.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Releasedir(in FuseContext ctx, in ReleaseIn input)
    {
        DropHandle(input.Fh);
        return Errno.OK;
    }

    /// <inheritdoc/>
    public override Errno Fsyncdir(in FuseContext ctx, in FsyncIn input) => Fsync(in ctx, in input);

    /// <inheritdoc/>
    /// <remarks>The FUSE cookie is the server's entry number (dir_readdir's <c>entry</c>): entry i of a reply that
    /// started at <c>entry</c> resumes at <c>entry + i + 1</c>.</remarks>
    public override Errno Readdir(in FuseContext ctx, in ReadIn input, ref FuseDirentWriter writer) => ReadDirectory(in ctx, in input, ref writer, plus: false);

    /// <inheritdoc/>
    /// <remarks>Each entry but "." and ".." is looked up (dir_lookup with O_NOLINK from the open directory) and entered
    /// with +1 lookup; an entry the reply cannot take is forgotten again. An entry whose lookup fails is listed without
    /// attributes.</remarks>
    public override Errno Readdirplus(in FuseContext ctx, in ReadIn input, ref FuseDirentWriter writer) => ReadDirectory(in ctx, in input, ref writer, plus: true);

    private Errno ReadDirectory(in FuseContext ctx, in ReadIn input, ref FuseDirentWriter writer, bool plus)
    {
        if (!_handles.TryGetValue(input.Fh, out var h) || !h.Port.TryAcquire()) return Errno.EBADF;
        var dir = h.Port;
        try
        {
            if (input.Offset > int.MaxValue) return Errno.OK;
            int entry = (int)input.Offset;
            var buf = t_dirBuffer ??= GC.AllocateUninitializedArray<byte>(DirBufferSize);
            int size = (int)Math.Min(input.Size, int.MaxValue);
            var id = plus ? Who(in ctx) : BridgeIdentity.Root;
            bool dirForeign = h.Node.Foreign;
            // Entries whose files the bridge already knows skip the per-entry dir_lookup, for a caller who may search
            // the directory (the lookup would check exactly that).
            bool known = plus && MaySearch(in ctx, h.Node, id);
            while (true)
            {
                // Ask for no more entries than the rest of the reply can take: a FUSE record is at least as long as the
                // Hurd one (24 + name vs 13 + name, both 8-aligned), so a byte bound alone fetched a quarter more short
                // names than fit, each copied and validated twice and thrown away.
                int room = size - writer.Length;
                int least = plus ? FuseDirentWriter.DirentplusSize(1) : FuseDirentWriter.DirentSize(1);
                if (room < least) return Errno.OK;
                int nentries = room / least;
                int bufsiz = Math.Clamp(room, 512, buf.Length);
                var e = Fs(dir, ctx.Cancellation).dir_readdir(buf, out int len, entry, nentries, bufsiz, out int amount);
                if (e != Errno.OK) return writer.Count > 0 ? Errno.OK : Posix(e);
                if (amount <= 0) return Errno.OK;
                var batch = known ? FetchKnown(buf.AsSpan(0, len), h.Node.Key.Dev, ctx.Cancellation) : null;
                var reader = new HurdDirentReader(buf.AsSpan(0, len));
                int i = 0;
                while (reader.TryRead(out var d))
                {
                    ulong cookie = (ulong)(entry + i + 1);
                    ulong ino = dirForeign ? MapIno(h.Node.Key.Dev, d.Ino) : d.Ino;
                    bool ok;
                    if (!plus || FuseDirentWriter.IsDotOrDotDot(d.Name))
                        ok = writer.TryAdd(ino, cookie, (FuseDirentType)(uint)d.Type, d.Name);
                    else if (writer.Length + FuseDirentWriter.DirentplusSize(d.Name.Length) > size)
                        ok = false; // the reply is full: no lookup for an entry it could not take (the kernel asks again from here)
                    else
                        ok = AddPlus(in ctx, ref writer, h.Node, dir, d.Name, d.Ino, (FuseDirentType)(uint)d.Type, cookie, id, known, batch);
                    if (!ok) return Errno.OK;
                    i++;
                }
                if (reader.Error) return writer.Count > 0 ? Errno.OK : Errno.EIO;
                entry += amount;
            }
        }
        finally { dir.Release(); }
    }

    /// <summary>The stats of the entries of one dir_readdir chunk whose files the bridge holds by node reference, fetched
    /// with one noderef_stat_many before the entries are written (per thread, reused).</summary>
    private sealed class KnownBatch
    {
        public const int Max = 512;
        public static readonly int StatSize = System.Runtime.CompilerServices.Unsafe.SizeOf<Stat>();
        public readonly ulong[] Inos = new ulong[Max];
        public readonly BridgeNode?[] Nodes = new BridgeNode?[Max];
        public readonly byte[] Refs = new byte[Max * sizeof(ulong)];
        public readonly byte[] Stats = new byte[Max * StatSize];
        public int Count, Cursor;

        public void Clear()
        {
            Array.Clear(Nodes, 0, Count);
            Count = Cursor = 0;
        }

        /// <summary>The fetched stat for the next entry when its inode is <paramref name="ino"/> (entries come in the
        /// order they were collected), or false.</summary>
        public bool TryNext(ulong ino, out BridgeNode node, out Stat st)
        {
            node = null!;
            st = default;
            if (Cursor >= Count || Inos[Cursor] != ino) return false;
            node = Nodes[Cursor]!;
            st = System.Runtime.InteropServices.MemoryMarshal.Read<Stat>(Stats.AsSpan(Cursor * StatSize));
            Cursor++;
            return true;
        }
    }

    [ThreadStatic] private static KnownBatch? t_known;

    /// <summary>READDIRPLUS's first pass over a chunk of dirents: the entries whose files the bridge holds by node
    /// reference get their stats in one noderef_stat_many on the session, instead of a call each in <see cref="KnownEntry"/>.
    /// Null when fewer than two such entries, or the server cannot.</summary>
    private KnownBatch? FetchKnown(ReadOnlySpan<byte> dirents, ulong dev, CancellationToken ct)
    {
        if (_noRefs) return null;
        var b = t_known ??= new KnownBatch();
        b.Clear();
        // The chunk's inodes, looked up in the table under one lock, then kept where the bridge holds a reference.
        var r = new HurdDirentReader(dirents);
        int seen = 0;
        while (seen < KnownBatch.Max && r.TryRead(out var d))
            if (!FuseDirentWriter.IsDotOrDotDot(d.Name)) b.Inos[seen++] = d.Ino;
        _nodes.FindManyByIno(dev, b.Inos.AsSpan(0, seen), b.Nodes.AsSpan(0, seen));
        for (int i = 0; i < seen; i++)
        {
            var n = b.Nodes[i];
            b.Nodes[i] = null;
            if (n is null || n.Ref == 0) continue;
            b.Inos[b.Count] = b.Inos[i];
            b.Nodes[b.Count] = n;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b.Refs.AsSpan(b.Count * sizeof(ulong)), n.Ref);
            b.Count++;
        }
        if (b.Count < 2) { b.Clear(); return null; }
        var e = FsExt(_session, ct).noderef_stat_many(b.Refs.AsSpan(0, b.Count * sizeof(ulong)), b.Stats, out int got);
        if (NoRefs(e) || e != Errno.OK || got != b.Count * KnownBatch.StatSize) { b.Clear(); return null; }
        return b;
    }

    private bool AddPlus(in FuseContext ctx, ref FuseDirentWriter writer, BridgeNode dirNode, PortRef dir, ReadOnlySpan<byte> name,
        ulong ino, FuseDirentType type, ulong cookie, BridgeIdentity id, bool known, KnownBatch? batch)
    {
        if (known && KnownEntry(dirNode.Key.Dev, ino, batch, ctx.Cancellation, out var kn, out var kst))
        {
            FillEntry(dirNode, kn, in kst, out var ke);
            if (writer.TryAddPlus(in ke, cookie, name)) return true;
            _nodes.Forget(kn.NodeId, 1);
            return false;
        }
        Errno e;
        if (id.IsRoot && Named(dirNode)
            && TryRefLookup(dirNode, name, OpenFlags.NoLink, 0, false, ctx.Cancellation, out e, out var rn, out var rst, out _))
        {
            if (e == Errno.OK)
            {
                FillEntry(dirNode, rn, in rst, out var re);
                if (writer.TryAddPlus(in re, cookie, name)) return true;
                _nodes.Forget(rn.NodeId, 1); // the reply cannot take it: no lookup count was given
                return false;
            }
            return writer.TryAdd(ino, cookie, type, name);
        }
        e = Walk(dir, name, OpenFlags.NoLink, 0, id, ctx.Cancellation, out var child);
        if (e == Errno.OK)
        {
            e = Enter(dirNode, name, child, isNodePort: true, id, ctx.Cancellation, out var node, out var st);
            if (e == Errno.OK)
            {
                FillEntry(dirNode, node, in st, out var entry);
                if (writer.TryAddPlus(in entry, cookie, name)) return true;
                _nodes.Forget(node.NodeId, 1); // the reply cannot take it: no lookup count was given
                return false;
            }
        }
        return writer.TryAdd(dirNode.Foreign ? MapIno(dirNode.Key.Dev, ino) : ino, cookie, type, name);
    }

    /// <summary>Whether <paramref name="id"/> may search directory <paramref name="dir"/>: root always; others as the
    /// translator says (file_check_access on the caller's port: exec on a directory is search).</summary>
    private bool MaySearch(in FuseContext ctx, BridgeNode dir, BridgeIdentity id)
    {
        if (id.IsRoot) return true;
        if (PortFor(dir, id, ctx.Cancellation, out var port) != Errno.OK) return false;
        try { return Fs(port, ctx.Cancellation).file_check_access(out var allowed) == Errno.OK && (allowed & OpenFlags.Exec) != 0; }
        finally { port.Release(); }
    }

    /// <summary>
    /// A READDIRPLUS entry (inode <paramref name="ino"/> of the directory's device) whose file the table already holds:
    /// its attributes by io_stat on the node's own port, +1 lookup, no dir_lookup (which would make and destroy a port on
    /// the server). Sound because the node still has links (nlink &gt; 0) and the bridge holds it, so no other file can
    /// have its inode number on that device: the entry names it. A translated node never matches (its dirent shows the
    /// node underneath, the table holds the translator's root), nor does a file whose link count fell to 0.
    /// </summary>
    private bool KnownEntry(ulong dev, ulong ino, KnownBatch? batch, CancellationToken ct, out BridgeNode node, out Stat st)
    {
        Errno e;
        if (batch is not null && batch.TryNext(ino, out node, out st))
            return st.Ino != 0 && KnownStillNames(node, dev, ino, in st);
        st = default;
        node = _nodes.FindByIno(dev, ino)!;
        if (node is null) return false;
        var port = _nodes.LeaseRoot(node);
        if (port is not null)
        {
            try { e = Io(port, ct).io_stat(out st); }
            finally { port.Release(); }
        }
        else if (Named(node)) e = FsExt(_session, ct).noderef_stat(node.Ref, out st);
        else return false;
        return e == Errno.OK && KnownStillNames(node, dev, ino, in st);
    }

    /// <summary>The checks of <see cref="KnownEntry"/> on the node's fresh stat, then its lookup count.</summary>
    private bool KnownStillNames(BridgeNode node, ulong dev, ulong ino, in Stat st)
    {
        if (st.Nlink == 0 || st.Dev != dev || st.Ino != ino
            || (st.Mode & (FileMode.PassiveTranslator | FileMode.ActiveTranslator)) != 0
            || new NodeKey(st.Dev, st.Ino, st.Generation) != node.Key) return false;
        return _nodes.TryCount(node);
    }

    /// <summary>Linux open flags to the open modes sent to a server (creation and lookup flags removed).</summary>
    private static OpenFlags OpenModes(int linuxFlags)
    {
        var f = OpenFlagsLinux.FromLinux(linuxFlags);
        return f & ~(OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloExec | OpenFlags.NoCtty | OpenFlags.Directory);
    }
}
