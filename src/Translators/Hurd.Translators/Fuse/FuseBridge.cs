using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Hurd.Translators.Fuse;

using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using RetryType = Hurd.Interfaces.RetryType;

/// <summary>
/// The FUSE bridge: a <see cref="FuseFileSystem"/> that is a client of the <c>fs</c>, <c>io</c> and <c>fsys</c>
/// protocols. Each FUSE request becomes calls on ports of the filesystem whose control port the bridge was given, and
/// of every translator reached from it through <c>dir_lookup</c> retries, so a tree of stacked translators appears as
/// one Linux mount.
/// </summary>
/// <remarks>
/// <para><b>Identity.</b> The kernel attests each request's fsuid and fsgid; the supplementary groups come from
/// <c>/proc/&lt;pid&gt;/status</c> (<see cref="IdentitySource"/>). For each node the bridge keeps one port with uid-0
/// identity (the root's from <c>fsys_getroot</c> with uids [0], the others from uid-0 <c>dir_lookup</c>s) and derives a
/// port per caller identity with <c>io_restrict_auth(uids=[uid], gids=[gid, groups...])</c>, cached (bounded, least
/// recently used out). A request of user X uses X's port, so the translator checks X's permissions itself and the
/// files X creates are X's: the mount uses allow_other and, by default, no default_permissions.</para>
/// <para><b>Nodes.</b> Node ids come from a 64-bit counter and are never reused (generation 0). A node is named by
/// io_stat's (st_dev, st_ino, st_gen), so hard links and repeated lookups give the same node id. Lookup counts follow
/// fuse.md §1.4: +1 for each LOOKUP, MKNOD, MKDIR, SYMLINK, LINK and CREATE reply and each READDIRPLUS entry except "."
/// and "..", −n for each FORGET; at 0 the node's ports are deallocated (the translators see no-senders). A reply that
/// bounced is undone by the dispatcher with a FORGET.</para>
/// <para><b>Lookups</b> follow the retry protocol: FS_RETRY_NORMAL with a name continues on the returned port (a
/// translator's root at a mount point); FS_RETRY_REAUTH re-derives the caller's port for the node the returned port
/// names; FS_RETRY_MAGICAL "/..." restarts at the bridge's root; more than <see cref="HurdLimits.MaxRetries"/> retries
/// give ELOOP. Lookups use O_NOLINK, so a symlink is returned as itself and the kernel follows it.</para>
/// <para><b>Errors.</b> Hurd codes become POSIX ones (<see cref="ErrnoExtensions.ToPosix"/>: EDIED → EIO); every call
/// has a deadline (<see cref="FuseBridgeOptions.CallTimeout"/>) and carries the FUSE request's interrupt token, so a dead
/// or hung translator gives an error, never a hang.</para>
/// </remarks>
public sealed partial class FuseBridge : FuseFileSystem, IChangeObserver, IDisposable
{
    private readonly IRpcTarget _control;
    private readonly FuseBridgeOptions _options;
    private readonly IdentitySource _ids = new();
    private readonly NodeTable _nodes;
    private readonly BridgeAuth _auth;
    private readonly ConcurrentDictionary<ulong, OpenHandle> _handles = new();
    private readonly int _timeoutMs;
    private readonly BridgeNode _root;
    // The root's uid-0 port (a reference of its own), on which node references are made and used (fs_ext noderef_*).
    private readonly PortRef _session;
    // Set when the server has no node references (MIG_BAD_ID), or the options turn them off: every node has ports.
    private volatile bool _noRefs;
    // Set when the server has references but not noderef_lookup_known (MIG_BAD_ID): lookups use noderef_lookup.
    private volatile bool _noKnown;
    private readonly ulong _rootDev;
    private long _nextHandle;
    private int _disposed;

    private sealed class OpenHandle(PortRef port, BridgeNode node, bool append, bool root)
    {
        public readonly PortRef Port = port;
        public readonly BridgeNode Node = node;
        /// <summary>Opened by root (a uid-0 protid): the node's <see cref="BridgeNode.RootHandle"/> while open.</summary>
        public readonly bool Root = root;
        /// <summary>Opened with O_APPEND: the server writes every io_write at the end of file.</summary>
        public readonly bool Append = append;
        /// <summary>A uid-0 peropen of the same node for writing, without O_APPEND, made at the first page-cache writeback
        /// through the handle (see <c>Write</c>); released with the handle.</summary>
        public PortRef? Positional;
    }

    private FuseBridge(IRpcTarget control, FuseBridgeOptions options, PortRef root, in Stat rootStat)
    {
        _control = control;
        _options = options;
        _timeoutMs = (int)Math.Clamp(options.CallTimeout.TotalMilliseconds, 1, int.MaxValue);
        _nodes = new NodeTable(Math.Max(1, options.MaxIdentityPorts), ReleaseRef);
        _auth = new BridgeAuth(options.Auth, options.CallTimeout, 1024);
        _rootDev = rootStat.Dev;
        _root = _nodes.AddRoot(new NodeKey(rootStat.Dev, rootStat.Ino, rootStat.Generation), root);
        _root.Mode = (uint)rootStat.Mode;
        root.TryAcquire();
        _session = root;
        _noRefs = !options.NodeReferences;
    }

    /// <summary>
    /// Connects to the filesystem behind <paramref name="control"/> (its fsys control port): fsys_getroot for uid 0
    /// becomes node 1. The bridge does not own <paramref name="control"/>.
    /// </summary>
    /// <returns>OK, or the error of fsys_getroot / io_stat (POSIX codes).</returns>
    public static Errno Connect(IRpcTarget control, FuseBridgeOptions? options, out FuseBridge? bridge)
    {
        ArgumentNullException.ThrowIfNull(control);
        bridge = null;
        options ??= new FuseBridgeOptions();
        int timeout = (int)Math.Clamp(options.CallTimeout.TotalMilliseconds, 1, int.MaxValue);
        var fsys = new FsysClient(control) { TimeoutMs = timeout };
        Span<byte> retryName = stackalloc byte[HurdLimits.RetryNameMax];
        var e = fsys.fsys_getroot(PortName.Null, BridgeIdentity.Root.Uids, BridgeIdentity.Root.Gids, OpenFlags.None,
            out var retry, retryName, out int retryLen, out var file);
        if (e != Errno.OK) return e.ToPosix();
        var right = file.IsNull ? null : SendRight.FromName(file.Name);
        if (right is null) return Errno.EIO;
        if (retry != RetryType.Normal || retryLen != 0)
        {
            // A root that is itself a redirection: follow it once from the port given.
            right.Timeout = options.CallTimeout;
            var fs = new FsClient(right) { TimeoutMs = timeout };
            Span<byte> r2 = stackalloc byte[HurdLimits.RetryNameMax];
            e = fs.dir_lookup(retryName[..retryLen], OpenFlags.None, 0, out retry, r2, out int l2, out var f2);
            right.Dispose();
            if (e != Errno.OK) return e.ToPosix();
            if (retry != RetryType.Normal || l2 != 0) return Errno.ELOOP;
            right = f2.IsNull ? null : SendRight.FromName(f2.Name);
            if (right is null) return Errno.EIO;
        }
        right.Timeout = options.CallTimeout;
        e = new IoClient(right) { TimeoutMs = timeout }.io_stat(out var st);
        if (e != Errno.OK) { right.Dispose(); return e.ToPosix(); }
        bridge = new FuseBridge(control, options, new PortRef(right), st);
        return Errno.OK;
    }

    /// <summary>The options the bridge was made with.</summary>
    public FuseBridgeOptions Options => _options;

    /// <summary>The control port the bridge serves from.</summary>
    public IRpcTarget Control => _control;

    /// <summary>Kernel nodes the bridge knows (the root included): the nodes with a lookup count above 0.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Open FUSE handles (files and directories).</summary>
    public int OpenHandleCount => _handles.Count;

    /// <summary>Per-identity ports in the cache.</summary>
    public int IdentityPortCount => _nodes.IdentityPortCount;

    /// <summary>How per-identity ports are made (through auth, or io_restrict_auth), with counts.</summary>
    internal BridgeAuth Auth => _auth;

    // ------------------------------------------------------------------ plumbing

    // The port's cached proxies; the call carries the request's interrupt token (set here, per thread) and the
    // right's deadline (Own sets it on every right the bridge holds). No allocation per call.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static FsClient Fs(PortRef p, CancellationToken ct) { PortRef.Cancellation = ct; return p.Fs; }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static IoClient Io(PortRef p, CancellationToken ct) { PortRef.Cancellation = ct; return p.Io; }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static FsExtClient FsExt(PortRef p, CancellationToken ct) { PortRef.Cancellation = ct; return p.FsExt; }

    // ------------------------------------------------------------------ node references
    // A root caller's LOOKUP, MKDIR, CREATE, UNLINK, RMDIR, GETATTR, OPEN and READDIRPLUS entry on nodes of the bridge's
    // own filesystem go through node references on the session port (fs_ext noderef_*): a number naming the node on the
    // server, with what a uid-0 port would carry (its identity and a peropen), but no port, so a LOOKUP costs one call
    // and its FORGET another, where a port costs a receive right, a send right and a no-senders notification. A node
    // gets its uid-0 port (RootPort) only when a request needs one (another identity, SETATTR, xattrs, RENAME, ...).
    // Everything else (other callers, translators on the way: the server answers "retry"; other filesystems) takes the
    // dir_lookup path as before, with the same checks: the reference carries uid 0, as the port it replaces did.

    /// <summary>Whether <paramref name="n"/> can be named on the session port: a node entered by reference, or the root.</summary>
    private bool Named(BridgeNode n) => !_noRefs && (n.Ref != 0 || n == _root);

    /// <summary>Whether a noderef call's answer means "the server has none" (it then never gets another).</summary>
    private bool NoRefs(Errno e)
    {
        if (e != Errno.MIG_BAD_ID) return false;
        _noRefs = true;
        return true;
    }

    /// <summary>Drops node reference <paramref name="r"/> (the node left the table).</summary>
    private void ReleaseRef(ulong r)
    {
        if (!_session.TryAcquire()) return;
        try { FsExt(_session, default).noderef_release(r); }
        finally { _session.Release(); }
    }

    /// <summary>
    /// noderef_lookup of <paramref name="name"/> in <paramref name="dir"/> (a <see cref="Named"/> node) as root; the node
    /// reached is entered (+1 lookup). False when the answer must come from dir_lookup instead (a translator or a retry on
    /// the way, or no references): nothing was made. With <paramref name="open"/>, <paramref name="opened"/> is an owned
    /// reference to a port opened with <paramref name="flags"/>.
    /// </summary>
    private bool TryRefLookup(BridgeNode dir, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open,
        CancellationToken ct, out Errno e, out BridgeNode node, out Stat st, out PortRef? opened)
    {
        node = null!;
        opened = null;
        bool retry;
        ulong r;
        // A lookup that opens nothing asks noderef_lookup_known: when it reaches a node the bridge already holds by
        // reference (the kernel revalidating a cached entry: 3 of every 4 LOOKUPs of `mkdir -p`, and every walk after the
        // entry timeout), the server answers with that reference and makes none, instead of a new one the table would
        // release at once (a second call, and a deferred close on the server).
        if (!open && !_noKnown)
        {
            e = FsExt(_session, ct).noderef_lookup_known(dir.Ref, name, flags, mode, false, out retry, out r, out bool known,
                out st, out _);
            if (e == Errno.MIG_BAD_ID) _noKnown = true; // references, but not this routine: noderef_lookup below
            else
            {
                if (e == Errno.ESTALE) return false;
                if (e != Errno.OK) { e = LookupError(e); return true; }
                if (retry) return false;
                var key = new NodeKey(st.Dev, st.Ino, st.Generation);
                if (!known) { node = _nodes.EnterRef(key, r); return true; }
                if (_nodes.CountKnownRef(key, r) is { } held) { node = held; return true; }
                // The reference was released while the lookup ran (a FORGET raced it): look up again for a new one.
            }
        }
        e = FsExt(_session, ct).noderef_lookup(dir.Ref, name, flags, mode, open, out retry, out r, out st, out var o);
        if (NoRefs(e) || e == Errno.ESTALE) return false;
        if (e != Errno.OK) { e = LookupError(e); return true; }
        if (retry) return false;
        if (open)
        {
            var right = SendRight.FromName(o);
            if (right is null) { ReleaseRef(r); e = Errno.EIO; return true; }
            opened = Own(right);
        }
        node = _nodes.EnterRef(new NodeKey(st.Dev, st.Ino, st.Generation), r);
        return true;
    }

    /// <summary>A lease on <paramref name="n"/>'s uid-0 port, made from its node reference (noderef_open with no open
    /// modes) the first time one is needed. ESTALE if the node has been forgotten.</summary>
    private Errno RootPort(BridgeNode n, CancellationToken ct, out PortRef port)
    {
        port = null!;
        var p = _nodes.LeaseRoot(n);
        if (p is not null) { port = p; return Errno.OK; }
        if (n.Dead || n.Ref == 0) return Errno.ESTALE;
        var e = FsExt(_session, ct).noderef_open(n.Ref, OpenFlags.None, out var name);
        if (e != Errno.OK) return Posix(e);
        var right = SendRight.FromName(name);
        if (right is null) return Errno.EIO;
        p = _nodes.InstallRoot(n, Own(right));
        if (p is null) return Errno.ESTALE;
        port = p;
        return Errno.OK;
    }

    private BridgeIdentity Who(in FuseContext ctx) =>
        _ids.For(ctx.Uid, ctx.Gid, ctx.Pid, ctx.HasSupplementaryGroups ? ctx.Groups : default);

    private PortRef Own(SendRight right)
    {
        right.Timeout = _options.CallTimeout;
        return new PortRef(right);
    }

    /// <summary>An error from a server as the kernel should see it. EMSGSIZE, which the bridge's bounded requests never
    /// cause themselves, is what a call to a port already known dead answers: EIO, like EDIED.</summary>
    private static Errno Posix(Errno e) => e == Errno.EMSGSIZE ? Errno.EIO : e.ToPosix();

    /// <summary>dir_lookup errors: a server that does not speak fs is "not a directory".</summary>
    private static Errno LookupError(Errno e) => e is Errno.EOPNOTSUPP or Errno.MIG_BAD_ID ? Errno.ENOTDIR : Posix(e);

    /// <summary>A lease on <paramref name="n"/>'s port for <paramref name="id"/>: from the cache, or made from the node's
    /// uid-0 port (through auth, else io_restrict_auth: <see cref="BridgeAuth"/>) and cached. ESTALE if the node has been forgotten.</summary>
    private Errno PortFor(BridgeNode n, BridgeIdentity id, CancellationToken ct, out PortRef port)
    {
        port = null!;
        var p = _nodes.TryLease(n, id);
        if (p is not null) { port = p; return Errno.OK; }
        if (id.IsRoot) return RootPort(n, ct, out port);
        var e = RootPort(n, ct, out var root);
        if (e != Errno.OK) return e;
        SendRight? right;
        try { e = _auth.Derive(root, id, ct, out right); }
        finally { root.Release(); }
        if (e != Errno.OK) return Posix(e);
        p = _nodes.Offer(n, id, Own(right!));
        if (p is null) return Errno.ESTALE;
        port = p;
        return Errno.OK;
    }

    /// <summary>The node <paramref name="nodeId"/> and a lease on its port for the caller.</summary>
    private Errno NodePort(in FuseContext ctx, ulong nodeId, BridgeIdentity id, out BridgeNode node, out PortRef port)
    {
        port = null!;
        node = _nodes.Get(nodeId)!;
        if (node is null) return Errno.ESTALE;
        return PortFor(node, id, ctx.Cancellation, out port);
    }

    /// <summary>A lease on open handle <paramref name="fh"/>'s port, or null (EBADF).</summary>
    private PortRef? LeaseHandle(ulong fh) => _handles.TryGetValue(fh, out var h) && h.Port.TryAcquire() ? h.Port : null;

    private ulong AddHandle(PortRef port, BridgeNode node, bool append = false, bool root = false)
    {
        ulong fh = (ulong)Interlocked.Increment(ref _nextHandle);
        _handles[fh] = new OpenHandle(port, node, append, root);
        if (root) Volatile.Write(ref node.RootHandle, port);
        return fh;
    }

    private void DropHandle(ulong fh)
    {
        if (!_handles.TryRemove(fh, out var h)) return;
        if (h.Root) Interlocked.CompareExchange(ref h.Node.RootHandle, null, h.Port);
        h.Port.Release();
        Interlocked.Exchange(ref h.Positional, null)?.Release();
    }

    /// <summary>
    /// The client side of dir_lookup (glibc's <c>__hurd_file_name_lookup_retry</c>): looks <paramref name="name"/> up
    /// from <paramref name="start"/> (a lease the caller keeps) and follows retries. On OK <paramref name="result"/> is an
    /// owned reference to the port reached.
    /// </summary>
    private Errno Walk(PortRef start, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, BridgeIdentity id,
        CancellationToken ct, out PortRef result)
    {
        result = null!;
        Span<byte> nameBuf = stackalloc byte[HurdLimits.RetryNameMax];
        Span<byte> retryBuf = stackalloc byte[HurdLimits.RetryNameMax];
        if (name.Length > nameBuf.Length) return Errno.ENAMETOOLONG;
        name.CopyTo(nameBuf);
        int nameLen = name.Length;
        PortRef cur = start;
        bool owned = false;
        try
        {
            for (int i = 0; i <= HurdLimits.MaxRetries; i++)
            {
                var e = Fs(cur, ct).dir_lookup(nameBuf[..nameLen], flags, mode, out var retry, retryBuf, out int rlen, out var res);
                if (e != Errno.OK) return LookupError(e);
                var right = res.IsNull ? null : SendRight.FromName(res.Name);
                PortRef? next = right is null ? null : Own(right);
                ReadOnlySpan<byte> rest = retryBuf[..rlen];
                switch (retry)
                {
                    case RetryType.Normal:
                        if (next is null) return Errno.EIO;
                        if (rlen == 0) { result = next; return Errno.OK; }
                        break;
                    case RetryType.Reauth:
                        if (next is null) return Errno.EIO;
                        e = Reauthenticate(next, id, ct, out next);
                        if (e != Errno.OK) return e;
                        break;
                    case RetryType.Magical:
                        next?.Release();
                        if (rlen == 0 || rest[0] != (byte)'/') return Errno.ENOENT;
                        while (!rest.IsEmpty && rest[0] == (byte)'/') rest = rest[1..];
                        e = PortFor(_root, id, ct, out next);
                        if (e != Errno.OK) return e;
                        if (rest.IsEmpty) { result = next; return Errno.OK; }
                        break;
                    default:
                        next?.Release();
                        return Errno.EIO;
                }
                if (owned) cur.Release();
                cur = next;
                owned = true;
                rest.CopyTo(nameBuf);
                nameLen = rest.Length;
            }
            return Errno.ELOOP;
        }
        finally
        {
            if (owned) cur.Release();
        }
    }

    /// <summary>FS_RETRY_REAUTH: the returned port (released here) is unauthenticated; find the node it names in the
    /// table and use the caller's port for it. EACCES when the node is not known to the bridge.</summary>
    private Errno Reauthenticate(PortRef port, BridgeIdentity id, CancellationToken ct, out PortRef result)
    {
        result = null!;
        var e = Io(port, ct).io_stat(out var st);
        port.Release();
        if (e != Errno.OK) return Posix(e);
        var n = _nodes.FindAndCount(new NodeKey(st.Dev, st.Ino, st.Generation));
        if (n is null) return Errno.EACCES;
        try { return PortFor(n, id, ct, out result); }
        finally { _nodes.Forget(n.NodeId, 1); }
    }

    /// <summary>
    /// Enters the file reached as <paramref name="name"/> in <paramref name="parent"/> into the node table (+1 lookup).
    /// <paramref name="x"/> is an owned reference to a port of the file with the caller's identity (released here); when
    /// <paramref name="isNodePort"/> it has no open modes and is kept as the caller's port. A new node gets a uid-0 port
    /// by reopening <paramref name="x"/> with no open modes when the caller is root, otherwise by a second lookup from the
    /// parent's uid-0 port (ESTALE if that reaches another file: a rename raced).
    /// </summary>
    private Errno Enter(BridgeNode parent, ReadOnlySpan<byte> name, PortRef x, bool isNodePort, BridgeIdentity id,
        CancellationToken ct, out BridgeNode node, out Stat st)
    {
        node = null!;
        var e = Io(x, ct).io_stat(out st);
        if (e != Errno.OK) { x.Release(); return Posix(e); }
        var key = new NodeKey(st.Dev, st.Ino, st.Generation);
        var n = _nodes.FindAndCount(key);
        PortRef? keep = x;
        if (n is null && !id.IsRoot && Named(parent) && st.Dev == _rootDev)
        {
            // Another caller's new node in a directory named by reference: the node's reference, by root's noderef_lookup
            // of the same name (one call, no port), instead of a uid-0 port by a second dir_lookup and its io_stat.
            e = FsExt(_session, ct).noderef_lookup(parent.Ref, name, OpenFlags.NoLink, 0, false, out bool retry, out ulong r, out var rst, out _);
            if (e == Errno.OK && !retry)
            {
                if (new NodeKey(rst.Dev, rst.Ino, rst.Generation) != key) { ReleaseRef(r); x.Release(); return Errno.ESTALE; }
                n = _nodes.EnterRef(key, r);
            }
            else if (e != Errno.OK && !NoRefs(e) && e != Errno.ESTALE) { x.Release(); return LookupError(e); }
        }
        if (n is null)
        {
            PortRef rootPort;
            if (id.IsRoot && isNodePort)
            {
                rootPort = x;
                keep = null;
            }
            else if (id.IsRoot)
            {
                // A root caller's open port (CREATE's handle): reopen its node with no open modes, dir_lookup(x, "",
                // O_NOLINK). No name is walked again, so nothing can race in between and no io_stat has to check it.
                e = Walk(x, default, OpenFlags.NoLink, 0, BridgeIdentity.Root, ct, out rootPort);
                if (e != Errno.OK) { x.Release(); return e; }
            }
            else
            {
                e = RootPort(parent, ct, out var parentRoot);
                if (e != Errno.OK) { x.Release(); return e; }
                try { e = Walk(parentRoot, name, OpenFlags.NoLink, 0, BridgeIdentity.Root, ct, out rootPort); }
                finally { parentRoot.Release(); }
                if (e != Errno.OK) { x.Release(); return e; }
                e = Io(rootPort, ct).io_stat(out var rst);
                if (e != Errno.OK || new NodeKey(rst.Dev, rst.Ino, rst.Generation) != key)
                {
                    rootPort.Release();
                    x.Release();
                    return e != Errno.OK ? Posix(e) : Errno.ESTALE;
                }
            }
            n = _nodes.Enter(key, rootPort, foreign: st.Dev != _rootDev);
        }
        if (keep is not null)
        {
            if (isNodePort && !id.IsRoot) _nodes.Offer(n, id, keep)?.Release();
            else keep.Release();
        }
        NoteCrossing(parent, name, n);
        node = n;
        return Errno.OK;
    }

    /// <summary>The st_ino the kernel shows: the file's own for the bridge's root filesystem; for files of other
    /// translators (another st_dev, which FUSE cannot show) the top 16 bits are mixed with a hash of their st_dev so
    /// (dev, ino) stays unique for tools like du, find and cp -a.</summary>
    private ulong MapIno(ulong dev, ulong ino)
    {
        if (dev == _rootDev) return ino;
        ulong h = dev * 0x9E3779B97F4A7C15UL;
        return ino ^ ((h >> 48) << 48) ^ (1UL << 63);
    }

    private void FillAttr(in Stat st, out FuseAttr a)
    {
        a = default;
        a.SetFrom(in st);
        a.Ino = MapIno(st.Dev, st.Ino);
    }

    private static void Split(TimeSpan t, out ulong sec, out uint nsec)
    {
        if (t <= TimeSpan.Zero) { sec = 0; nsec = 0; return; }
        sec = (ulong)(t.Ticks / TimeSpan.TicksPerSecond);
        nsec = (uint)(t.Ticks % TimeSpan.TicksPerSecond * 100);
    }

    private void FillEntry(BridgeNode parent, BridgeNode n, in Stat st, out EntryOut entry)
    {
        entry = default;
        entry.NodeId = n.NodeId;
        entry.Generation = 0;
        NoteMode(n, (uint)st.Mode);
        if (SearchableByAll(parent)) Split(_options.EntryTimeout, out entry.EntryValid, out entry.EntryValidNsec);
        Split(_options.AttrTimeout, out entry.AttrValid, out entry.AttrValidNsec);
        FillAttr(in st, out entry.Attr);
    }

    /// <summary>
    /// Whether the kernel may cache names looked up in directory <paramref name="dir"/> (entry_valid). Without
    /// default_permissions the kernel walks a cached dentry without asking the filesystem, so the translator's search
    /// permission check on the directory would be skipped for every later caller: only directories that owner, group
    /// and others may all search (x in each class) and that have no ACL beyond the mode (a named entry may refuse a user:
    /// <see cref="Acl.ExtendedAclMode"/>) get cached entries; in the others every walk is a LOOKUP for the
    /// caller, checked by the translator (the kernel's semantics; see "Security and permissions" in architecture.md).
    /// </summary>
    private static bool SearchableByAll(BridgeNode dir) => SearchableByAll(dir.Mode);

    private static bool SearchableByAll(uint mode) => (mode & 0x49) == 0x49 && (mode & (uint)Acl.ExtendedAclMode) == 0;

    /// <summary>
    /// Records <paramref name="n"/>'s mode as just seen (entry, getattr, setattr, an ACL change). When a directory stops
    /// being searchable by all, the names the kernel cached in it while it was would let any caller walk on through
    /// them, without the translator's search check, until their entry timeout: chmod 0700 of a directory must shut
    /// others out at once, as on a local filesystem. So its names are expired in the kernel's cache
    /// (<see cref="ForgetCachedNames"/>); later walks through it are LOOKUPs the translator checks, as
    /// <see cref="SearchableByAll(BridgeNode)"/> gives names in it no entry timeout from now on.
    /// </summary>
    private void NoteMode(BridgeNode n, uint mode)
    {
        uint old = n.Mode;
        n.Mode = mode;
        if ((mode & (uint)FileMode.TypeMask) == (uint)FileMode.Directory && SearchableByAll(old) && !SearchableByAll(mode)
            && _options.EntryTimeout > TimeSpan.Zero)
            ForgetCachedNames(n);
    }

    // ------------------------------------------------------------------ changes made by other clients

    /// <inheritdoc/>
    /// <remarks>Not on the bridge's own handler threads: the kernel made those changes and knows of them.</remarks>
    public bool Observes => !FuseDispatcher.HandlingRequest;

    /// <inheritdoc/>
    /// <remarks>For a node the kernel holds: its attributes are dropped (INVAL_INODE, attributes only), and its mode noted
    /// (<see cref="NoteMode"/>: names in a directory that stops being searchable by all are expired).</remarks>
    public void AttributesChanged(in Stat st)
    {
        if (_nodes.FindByIno(st.Dev, st.Ino) is not { Dead: false } n) return;
        NoteMode(n, (uint)st.Mode);
        _ = Session?.NotifyInvalInode(n.NodeId);
    }

    /// <inheritdoc/>
    /// <remarks>For a directory the kernel holds: the name is expired (the next walk through it asks LOOKUP) and the
    /// directory's attributes (size, times, link count) dropped.</remarks>
    public void NameChanged(in Stat dir, ReadOnlySpan<byte> name)
    {
        if (_nodes.FindByIno(dir.Dev, dir.Ino) is not { Dead: false } n || Session is not { } session) return;
        _ = session.NotifyInvalEntry(n.NodeId, name, expireOnly: true);
        _ = session.NotifyInvalInode(n.NodeId);
    }

    /// <inheritdoc/>
    /// <remarks>For a file the kernel holds: its attributes and the cached pages of the range are dropped.</remarks>
    public void DataChanged(in Stat st, long offset, long length)
    {
        if (_nodes.FindByIno(st.Dev, st.Ino) is not { Dead: false } n) return;
        _ = Session?.NotifyInvalInode(n.NodeId, offset, length);
    }

    private void FillAttrOut(in Stat st, out AttrOut attr)
    {
        attr = default;
        Split(_options.AttrTimeout, out attr.AttrValid, out attr.AttrValidNsec);
        FillAttr(in st, out attr.Attr);
    }

    /// <summary>Looks <paramref name="name"/> up in node <paramref name="parentId"/> for the caller and enters the result (+1).</summary>
    private Errno LookupEntry(in FuseContext ctx, ulong parentId, ReadOnlySpan<byte> name, BridgeIdentity id, out EntryOut entry)
    {
        entry = default;
        Errno e;
        if (id.IsRoot && _nodes.Get(parentId) is { } dir && Named(dir)
            && TryRefLookup(dir, name, OpenFlags.NoLink, 0, false, ctx.Cancellation, out e, out var rn, out var rst, out _))
        {
            if (e != Errno.OK) return e;
            FillEntry(dir, rn, in rst, out entry);
            return Errno.OK;
        }
        e = NodePort(in ctx, parentId, id, out var parent, out var pport);
        if (e != Errno.OK) return e;
        PortRef child;
        try { e = Walk(pport, name, OpenFlags.NoLink, 0, id, ctx.Cancellation, out child); }
        finally { pport.Release(); }
        if (e != Errno.OK) return e;
        e = Enter(parent, name, child, isNodePort: true, id, ctx.Cancellation, out var node, out var st);
        if (e != Errno.OK) return e;
        FillEntry(parent, node, in st, out entry);
        return Errno.OK;
    }

    // ------------------------------------------------------------------ lifetime

    /// <inheritdoc/>
    public override void Init(FuseConnection connection)
    {
        // The kernel must not own sizes and times: other clients change files through IPC.
        connection.Want &= ~InitFlags.WritebackCache;
        // The umask is the bridge's to apply (CreationMode): not when the directory has a default ACL.
        connection.Want |= InitFlags.DontMask;
        // The servers clear S_ISUID/S_ISGID on write, truncate and chown themselves (io_write, file_set_size, file_chown:
        // the Hurd's rule, and the SDK's Calls, which follow Linux's). HANDLE_KILLPRIV_V2 says so, and makes the kernel set
        // SB_NOSEC: an inode whose attributes have not been refreshed since its last write is S_NOSEC, and write(2) skips
        // file_remove_privs. Without it (FUSE clears SB_NOSEC) every write first asks GETXATTR "security.capability": two
        // round trips per write. The kernel then leaves the set-id drops of chown(f, -1, -1) and before a write to the
        // server too: it sends a SETATTR with nothing valid (see EmptySetattrAllowed).
        connection.Want |= InitFlags.HandleKillprivV2;
    }

    /// <inheritdoc/>
    /// <remarks>Every lookup count is now 0: all handles and node ports but the root's are deallocated, so the
    /// translators see no-senders for them.</remarks>
    public override void Destroy() => ReleaseAll(keepRoot: true);

    private void ReleaseAll(bool keepRoot)
    {
        foreach (var fh in _handles.Keys) DropHandle(fh);
        _nodes.Clear(keepRoot);
    }

    /// <summary>Deallocates every port the bridge holds (after the session has stopped).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        ReleaseAll(keepRoot: false);
        _session.Release();
        _auth.Dispose();
    }

    /// <inheritdoc/>
    public override void Forget(ulong nodeId, ulong nlookup) => _nodes.Forget(nodeId, nlookup);

    // ------------------------------------------------------------------ lookup and attributes

    /// <inheritdoc/>
    public override Errno Lookup(in FuseContext ctx, ReadOnlySpan<byte> name, out EntryOut entry)
    {
        var e = LookupEntry(in ctx, ctx.NodeId, name, Who(in ctx), out entry);
        if (e == Errno.ENOENT && _options.NegativeTimeout > TimeSpan.Zero && _nodes.Get(ctx.NodeId) is { } dir && SearchableByAll(dir))
        {
            entry = default;
            Split(_options.NegativeTimeout, out entry.EntryValid, out entry.EntryValidNsec);
            return Errno.OK;
        }
        return e;
    }

    /// <inheritdoc/>
    public override Errno Getattr(in FuseContext ctx, in GetattrIn input, out AttrOut attr)
    {
        attr = default;
        PortRef? port = (input.GetattrFlags & 1) != 0 ? LeaseHandle(input.Fh) : null;
        BridgeNode? node = null;
        if (port is null && ctx.Uid == 0 && _nodes.Get(ctx.NodeId) is { } rn && Named(rn))
        {
            var e1 = FsExt(_session, ctx.Cancellation).noderef_stat(rn.Ref, out var rst);
            if (!NoRefs(e1))
            {
                if (e1 != Errno.OK) return Posix(e1);
                NoteMode(rn, (uint)rst.Mode);
                FillAttrOut(in rst, out attr);
                return Errno.OK;
            }
        }
        if (port is null)
        {
            var e0 = NodePort(in ctx, ctx.NodeId, Who(in ctx), out node, out port);
            if (e0 != Errno.OK) return e0;
        }
        try
        {
            var e = Io(port, ctx.Cancellation).io_stat(out var st);
            if (e != Errno.OK) return Posix(e);
            if (node is not null) NoteMode(node, (uint)st.Mode);
            FillAttrOut(in st, out attr);
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Setattr(in FuseContext ctx, in SetattrIn input, out AttrOut attr)
    {
        attr = default;
        var v = input.Valid;
        const SetattrValid Changes = SetattrValid.Mode | SetattrValid.Uid | SetattrValid.Gid | SetattrValid.Size
            | SetattrValid.Atime | SetattrValid.Mtime | SetattrValid.AtimeNow | SetattrValid.MtimeNow;
        if (_options.ReadOnly && (v & Changes) != 0) return Errno.EROFS;
        PortRef? port = (v & SetattrValid.Fh) != 0 ? LeaseHandle(input.Fh) : null;
        if (port is null && ctx.Uid == 0) port = LeaseRootHandle(ctx.NodeId);
        if (port is null)
        {
            var e0 = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out port);
            if (e0 != Errno.OK) return e0;
        }
        try
        {
            var fs = Fs(port, ctx.Cancellation);
            Errno e;
            // No attribute to change: the kernel passes on a ctime-only change (chown(f, -1, -1)); file_chown(-1, -1)
            // is that change on the Hurd too.
            if ((v & (SetattrValid.Uid | SetattrValid.Gid)) != 0 || (v & Changes) == 0)
            {
                if ((v & Changes) == 0 && (e = EmptySetattrAllowed(in ctx, port)) != Errno.OK) return e;
                e = fs.file_chown((v & SetattrValid.Uid) != 0 ? input.Uid : uint.MaxValue, (v & SetattrValid.Gid) != 0 ? input.Gid : uint.MaxValue);
                // An empty SETATTR is also how the kernel announces its own set-id drop before a non-owner's write
                // (when its rule finds no bit to drop); the write that follows drops them (Calls). Only a real
                // chown(f, -1, -1) by a non-owner of a set-id file gets OK here where Linux says EPERM.
                if (e == Errno.EPERM && (v & Changes) == 0) e = Errno.OK;
                if (e != Errno.OK) return Posix(e);
            }
            // The size before the mode: a truncate by a non-owner comes with the kernel's drop of the set-id bits (a
            // mode), which the truncate's own permission check must answer first (EACCES, as Linux), and which the
            // translator has then done already (Calls drops them on truncate).
            if ((v & SetattrValid.Size) != 0)
            {
                if (input.Size > long.MaxValue) return Errno.EFBIG;
                if ((v & SetattrValid.Fh) != 0)
                {
                    // ftruncate: file_set_size itself stamps mtime/ctime even at the same size (Calls.FileSetSize, as Linux).
                    e = fs.file_set_size((long)input.Size);
                }
                else
                {
                    // truncate(2) by name: as glibc on the Hurd, open for writing (the permission check), then set the size.
                    Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
                    e = fs.dir_lookup(default, OpenFlags.Write, 0, out var rt, retry, out int rn, out var w);
                    if (e != Errno.OK) return Posix(e);
                    using var wr = SendRight.FromName(w.Name);
                    if (wr is null || rt != RetryType.Normal || rn != 0) return Errno.EIO;
                    e = new FsClient(wr) { TimeoutMs = _timeoutMs, Cancellation = ctx.Cancellation }.file_set_size((long)input.Size);
                }
                if (e != Errno.OK) return Posix(e);
            }
            if ((v & SetattrValid.Mode) != 0)
            {
                bool done = (v & SetattrValid.Size) != 0 && Io(port, ctx.Cancellation).io_stat(out var now) == Errno.OK
                    && ((uint)now.Mode & 0xFFF) == (input.Mode & 0xFFF);
                if (!done)
                {
                    e = fs.file_chmod((FileMode)(input.Mode & 0xFFF));
                    if (e != Errno.OK) return Posix(e);
                }
            }
            if ((v & (SetattrValid.Atime | SetattrValid.Mtime | SetattrValid.AtimeNow | SetattrValid.MtimeNow)) != 0)
            {
                var at = (v & SetattrValid.AtimeNow) != 0 ? new TimeSpec(0, TimeSpec.UtimeNow)
                    : (v & SetattrValid.Atime) != 0 ? new TimeSpec((long)input.Atime, input.Atimensec)
                    : new TimeSpec(0, TimeSpec.UtimeOmit);
                var mt = (v & SetattrValid.MtimeNow) != 0 ? new TimeSpec(0, TimeSpec.UtimeNow)
                    : (v & SetattrValid.Mtime) != 0 ? new TimeSpec((long)input.Mtime, input.Mtimensec)
                    : new TimeSpec(0, TimeSpec.UtimeOmit);
                e = fs.file_utimens(in at, in mt);
                if (e != Errno.OK) return Posix(e);
            }
            e = Io(port, ctx.Cancellation).io_stat(out var st);
            if (e != Errno.OK) return Posix(e);
            if (_nodes.Get(ctx.NodeId) is { } changed) NoteMode(changed, (uint)st.Mode);
            FillAttrOut(in st, out attr);
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <summary>
    /// For root's SETATTR without a handle (fchown, fchmod, futimens: the kernel names no handle for them): the node's
    /// uid-0 port if it has one, else the port of a handle root holds open on it (<see cref="BridgeNode.RootHandle"/>).
    /// Equivalent for what SETATTR calls: file_chown, file_chmod, file_utimens and io_stat check only the identity,
    /// never the open modes, and a size by name reopens for writing first. So an untar (create, write, futimens, fchown,
    /// fchmod, close) makes no port for the files it writes. Null: take <see cref="NodePort"/>.
    /// </summary>
    private PortRef? LeaseRootHandle(ulong nodeId)
    {
        if (_nodes.Get(nodeId) is not { } n) return null;
        if (_nodes.LeaseRoot(n) is { } root) return root;
        return Volatile.Read(ref n.RootHandle) is { } h && h.TryAcquire() ? h : null;
    }

    /// <summary>
    /// With HANDLE_KILLPRIV_V2 the kernel leaves set-id drops to the server and sends a SETATTR with nothing valid both
    /// for chown(f, -1, -1) and for its own drop before a write (file_remove_privs). Without it, both came as a chmod
    /// dropping the bits, which a caller who neither owns the file nor may write it is refused (EPERM: Linux refuses a
    /// non-owner's chown(f, -1, -1) of a set-id file; a writer may drop them). The same rule, here: EPERM for such a
    /// caller when the file has bits to drop; otherwise OK, and file_chown(-1, -1) does the drop.
    /// </summary>
    private Errno EmptySetattrAllowed(in FuseContext ctx, PortRef port)
    {
        if (ctx.Uid == 0) return Errno.OK;
        var e = Io(port, ctx.Cancellation).io_stat(out var st);
        if (e != Errno.OK) return Posix(e);
        bool setId = (st.Mode & FileMode.SetUid) != 0 || (st.Mode & (FileMode.SetGid | (FileMode)0x8)) == (FileMode.SetGid | (FileMode)0x8)
            || ((st.Mode & FileMode.SetGid) != 0 && !Who(in ctx).Gids.Contains(st.Gid));
        if (!setId || st.Mode.IsDirectory() || st.Uid == ctx.Uid) return Errno.OK;
        e = Fs(port, ctx.Cancellation).file_check_access(out var allowed);
        if (e != Errno.OK) return Posix(e);
        return (allowed & OpenFlags.Write) != 0 ? Errno.OK : Errno.EPERM;
    }

    /// <inheritdoc/>
    public override Errno Access(in FuseContext ctx, uint mask)
    {
        Errno e;
        OpenFlags allowed;
        // Root may read, write and search every directory of the SDK's filesystems (Permissions.Check): the answer for
        // one of the bridge's own needs no call (a node's type never changes). fchdir asks this for each directory.
        if (ctx.Uid == 0 && _nodes.Get(ctx.NodeId) is { } dn && Named(dn) && ((FileMode)dn.Mode).IsDirectory())
            return AccessAnswer(mask, OpenFlags.Read | OpenFlags.Write | OpenFlags.Exec);
        if (ctx.Uid == 0 && _nodes.Get(ctx.NodeId) is { } rn && Named(rn)
            && !NoRefs(e = FsExt(_session, ctx.Cancellation).noderef_check_access(rn.Ref, out allowed)) && e != Errno.ESTALE)
        {
            if (e != Errno.OK) return Posix(e);
            return AccessAnswer(mask, allowed);
        }
        e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try
        {
            e = Fs(port, ctx.Cancellation).file_check_access(out allowed);
            if (e != Errno.OK) return Posix(e);
            return AccessAnswer(mask, allowed);
        }
        finally { port.Release(); }
    }

    /// <summary>ACCESS's answer for <paramref name="mask"/> (R_OK 4, W_OK 2, X_OK 1) from file_check_access's modes.</summary>
    private Errno AccessAnswer(uint mask, OpenFlags allowed)
    {
        if ((mask & 4) != 0 && (allowed & OpenFlags.Read) == 0) return Errno.EACCES;
        if ((mask & 2) != 0 && (allowed & OpenFlags.Write) == 0) return Errno.EACCES;
        if ((mask & 1) != 0 && (allowed & OpenFlags.Exec) == 0) return Errno.EACCES;
        if ((mask & 2) != 0 && _options.ReadOnly) return Errno.EROFS;
        return Errno.OK;
    }

    /// <inheritdoc/>
    public override Errno Statfs(in FuseContext ctx, out StatfsOut statfs)
    {
        statfs = default;
        var e = NodePort(in ctx, ctx.NodeId == 0 ? 1 : ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try
        {
            e = Fs(port, ctx.Cancellation).file_statfs(out var s);
            if (e != Errno.OK) return Posix(e);
            statfs.St.Blocks = (ulong)s.Blocks;
            statfs.St.Bfree = (ulong)s.Bfree;
            statfs.St.Bavail = (ulong)s.Bavail;
            statfs.St.Files = (ulong)s.Files;
            statfs.St.Ffree = (ulong)s.Ffree;
            statfs.St.Bsize = (uint)s.Bsize;
            statfs.St.Frsize = (uint)(s.Frsize != 0 ? s.Frsize : s.Bsize);
            statfs.St.Namelen = (uint)(s.Namelen != 0 ? s.Namelen : FuseKernel.NameMax);
            return Errno.OK;
        }
        finally { port.Release(); }
    }
}
