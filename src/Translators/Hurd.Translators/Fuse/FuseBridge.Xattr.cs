using System.Runtime.CompilerServices;

namespace Hurd.Translators.Fuse;

using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using RetryType = Hurd.Interfaces.RetryType;
using XattrFlags = Hurd.Interfaces.XattrFlags;

// The FUSE extended-attribute requests: getxattr/listxattr/setxattr/removexattr. Names pass through to
// file_get_xattr & co., POSIX ACLs (system.posix_acl_*) included: the bridge does not ask for FUSE_POSIX_ACL, so the
// kernel neither caches nor enforces ACLs and hands them to the daemon as plain xattrs in the VFS format, and the
// translators' SDK gives them their meaning (Calls.Acl.cs). One name is the bridge's own: trusted.hurd.translator.
public sealed partial class FuseBridge
{
    [ThreadStatic] private static byte[]? t_bigBuffer;

    /// <summary>The extended attribute that names a node's passive translator (ext2fs's and this system's). Linux passes
    /// only user., trusted., security. and system. names to a FUSE daemon, so through the mount the record is
    /// <see cref="TrustedTranslatorXattr"/>; this name is answered the same way for other clients of the bridge.</summary>
    private static ReadOnlySpan<byte> TranslatorXattr => "gnu.translator"u8;

    /// <summary>
    /// The passive translator record through the mount (root only, as every trusted. name on Linux): getfattr reads the
    /// record (the argz, NUL-separated and NUL-terminated; ENODATA when there is none), setfattr sets it (settrans -p;
    /// a missing final NUL is added), removexattr clears it. It is the record of the node itself: for a translator's root
    /// reached by a lookup, the node underneath it, looked up again from its directory with O_NOTRANS. Not listed by
    /// listxattr, so copying a tree (cp -a) does not copy translators.
    /// </summary>
    internal static ReadOnlySpan<byte> TrustedTranslatorXattr => "trusted.hurd.translator"u8;

    /// <summary>Where a lookup crossed into another translator: the directory and name of the node underneath.</summary>
    private sealed class Underneath(BridgeNode parent, byte[] name)
    {
        public readonly BridgeNode Parent = parent;
        public readonly byte[] Name = name;
    }

    /// <summary>The translated nodes the bridge has entered, keyed by the node the kernel sees (the translator's root);
    /// an entry lives as long as that node does.</summary>
    private readonly ConditionalWeakTable<BridgeNode, Underneath> _underneath = new();

    /// <summary>Called for every entry made (<c>Enter</c>): when <paramref name="node"/> belongs to another filesystem
    /// than its directory, the lookup crossed into a translator sitting on <paramref name="name"/>.</summary>
    private void NoteCrossing(BridgeNode parent, ReadOnlySpan<byte> name, BridgeNode node)
    {
        if (node.Key.Dev == parent.Key.Dev || name.IsEmpty || name.SequenceEqual(".."u8) || name.SequenceEqual("."u8)) return;
        if (_underneath.TryGetValue(node, out var u) && u.Parent == parent && u.Name.AsSpan().SequenceEqual(name)) return;
        _underneath.AddOrUpdate(node, new Underneath(parent, name.ToArray()));
    }

    private static bool IsTranslatorName(ReadOnlySpan<byte> name) =>
        name.SequenceEqual(TrustedTranslatorXattr) || name.SequenceEqual(TranslatorXattr);

    /// <summary>An owned reference to a port of the node <paramref name="node"/> stands for, untranslated: the node
    /// underneath a translator's root (dir_lookup(name, O_NOTRANS) from its directory), else the node's own port.</summary>
    private Errno UntranslatedPort(in FuseContext ctx, BridgeNode node, BridgeIdentity id, out PortRef port)
    {
        port = null!;
        if (!_underneath.TryGetValue(node, out var u)) return PortFor(node, id, ctx.Cancellation, out port);
        var e = PortFor(u.Parent, id, ctx.Cancellation, out var dir);
        if (e != Errno.OK) return e;
        try
        {
            Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
            e = Fs(dir, ctx.Cancellation).dir_lookup(u.Name, OpenFlags.NoTrans | OpenFlags.NoLink, 0, out var rt, retry,
                out int rn, out var res);
            if (e != Errno.OK) return LookupError(e);
            var right = res.IsNull ? null : SendRight.FromName(res.Name);
            if (right is null) return Errno.EIO;
            if (rt != RetryType.Normal || rn != 0) { right.Dispose(); return Errno.EIO; }
            port = Own(right);
            return Errno.OK;
        }
        finally { dir.Release(); }
    }

    /// <summary>getxattr of the translator record (see <see cref="TrustedTranslatorXattr"/>).</summary>
    private Errno GetTranslatorXattr(in FuseContext ctx, Span<byte> value, out int size)
    {
        size = 0;
        var node = _nodes.Get(ctx.NodeId);
        if (node is null) return Errno.ESTALE;
        var e = UntranslatedPort(in ctx, node, Who(in ctx), out var port);
        if (e != Errno.OK) return e;
        try
        {
            var buf = t_bigBuffer ??= GC.AllocateUninitializedArray<byte>(HurdLimits.XattrSizeMax);
            e = Fs(port, ctx.Cancellation).file_get_translator(buf, out int n);
            if (e == Errno.EINVAL) return Errno.ENODATA;
            if (e != Errno.OK) return Posix(e);
            size = n;
            if (value.IsEmpty) return Errno.OK;
            if (n > value.Length) return Errno.ERANGE;
            buf.AsSpan(0, n).CopyTo(value);
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <summary>setxattr (<paramref name="value"/> given) or removexattr of the translator record: file_set_translator
    /// of the passive record only; an active translator keeps running until it goes away.</summary>
    private Errno SetTranslatorXattr(in FuseContext ctx, ReadOnlySpan<byte> value, bool remove)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        var node = _nodes.Get(ctx.NodeId);
        if (node is null) return Errno.ESTALE;
        byte[] argz = [];
        if (!remove)
        {
            if (value.IsEmpty) return Errno.EINVAL;
            argz = value[^1] == 0 ? value.ToArray() : [.. value, 0];
        }
        var e = UntranslatedPort(in ctx, node, Who(in ctx), out var port);
        if (e != Errno.OK) return e;
        try
        {
            if (remove)
            {
                var buf = t_bigBuffer ??= GC.AllocateUninitializedArray<byte>(HurdLimits.XattrSizeMax);
                e = Fs(port, ctx.Cancellation).file_get_translator(buf, out _);
                if (e == Errno.EINVAL) return Errno.ENODATA;
                if (e != Errno.OK) return Posix(e);
            }
            return Posix(Fs(port, ctx.Cancellation).file_set_translator(TransFlags.Set, TransFlags.None, GoAwayFlags.None, argz,
                PortName.Null));
        }
        finally { port.Release(); }
    }

    // ------------------------------------------------------------------ the umask and default ACLs

    /// <summary>What the bridge last learnt of a directory's default ACL, and when (Environment.TickCount64).</summary>
    private sealed class DefaultAclSeen(bool present, long at)
    {
        public volatile bool Present = present;
        public long At = at;
    }

    private readonly ConditionalWeakTable<BridgeNode, DefaultAclSeen> _defaultAcls = new();

    /// <summary>
    /// The permission bits a MKNOD / MKDIR / CREATE in node <c>ctx.NodeId</c> asks the translator for. The bridge asks for
    /// FUSE_DONT_MASK, so the kernel leaves the umask to it: POSIX applies the umask only when the directory has no
    /// default ACL (with one, the ACL cuts the mode down instead, in the translator: Calls.Acl.cs). Whether the directory
    /// has one is cached per node for the attribute timeout (a change made through the bridge updates it at once).
    /// Without DONT_MASK the kernel has already applied the umask, and applying it again changes nothing.
    /// </summary>
    private FileMode CreationMode(in FuseContext ctx, uint mode, uint umask)
    {
        var perm = (FileMode)(mode & 0xFFF);
        uint drop = umask & mode & 0x1ff;
        if (drop == 0) return perm;
        var dir = _nodes.Get(ctx.NodeId);
        if (dir is not null && HasDefaultAcl(in ctx, dir)) return perm;
        return perm & ~(FileMode)drop;
    }

    private bool HasDefaultAcl(in FuseContext ctx, BridgeNode dir)
    {
        long now = Environment.TickCount64;
        if (_defaultAcls.TryGetValue(dir, out var seen) && now - Volatile.Read(ref seen.At) < _options.AttrTimeout.TotalMilliseconds)
            return seen.Present;
        Errno e;
        // A default ACL is readable by everyone (system.posix_acl_*): a directory named by reference is asked as root,
        // which spares the port a caller's own would need.
        if (Named(dir) && !NoRefs(e = FsExt(_session, ctx.Cancellation).noderef_get_xattr(dir.Ref, Acl.DefaultName, 0, default, out _, out _))
            && e != Errno.ESTALE)
        {
            bool has = e == Errno.OK;
            NoteDefaultAcl(dir, has);
            return has;
        }
        if (PortFor(dir, Who(in ctx), ctx.Cancellation, out var port) != Errno.OK) return false;
        try { e = Fs(port, ctx.Cancellation).file_get_xattr(Acl.DefaultName, 0, default, out _, out _); }
        finally { port.Release(); }
        bool present = e == Errno.OK;
        NoteDefaultAcl(dir, present);
        return present;
    }

    /// <summary>After an xattr change through the bridge: a default ACL's presence is noted at once; an access ACL changes
    /// the mode and <see cref="Acl.ExtendedAclMode"/>, which decide whether names in a directory may be cached, so the
    /// node's mode hint is refreshed (one io_stat, only for ACL changes), and the kernel, which caches the mode for the
    /// attribute timeout and does not drop it after a setxattr without FUSE_POSIX_ACL, is told to (INVAL_INODE,
    /// attributes only). The reply waits for it (a second at most), so `setfacl ...; ls -l` shows the new mode: an
    /// attributes-only invalidation takes no lock a request holds (fuse_reverse_inval_inode with offset -1 only bumps
    /// the attribute version), unlike the page or entry invalidations handlers must never wait for.</summary>
    private void AclChanged(in FuseContext ctx, BridgeNode node, PortRef port, ReadOnlySpan<byte> name, bool present)
    {
        if (name.SequenceEqual(Acl.DefaultName)) NoteDefaultAcl(node, present);
        else if (name.SequenceEqual(Acl.AccessName))
        {
            if (Io(port, ctx.Cancellation).io_stat(out var st) == Errno.OK) NoteMode(node, (uint)st.Mode);
            Session?.NotifyInvalInode(node.NodeId).Wait(TimeSpan.FromSeconds(1));
        }
    }

    private void NoteDefaultAcl(BridgeNode dir, bool present) =>
        _defaultAcls.AddOrUpdate(dir, new DefaultAclSeen(present, Environment.TickCount64));

    // ------------------------------------------------------------------ extended attributes

    /// <inheritdoc/>
    /// <remarks>The translator record (<see cref="TrustedTranslatorXattr"/>) is file_get_translator; every other name
    /// is file_get_xattr.</remarks>
    public override Errno Getxattr(in FuseContext ctx, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        if (IsTranslatorName(name)) return GetTranslatorXattr(in ctx, value, out size);
        Errno e;
        // Root on a node named by reference: noderef_get_xattr with the reference's identity (uid 0, as the node's uid-0
        // port), so no port is made for it. The kernel asks "security.capability" before the first write to a file and on
        // every chown (the killpriv checks): an untar asks it twice per file, mostly of files known only by reference.
        if (ctx.Uid == 0 && _nodes.Get(ctx.NodeId) is { } rn && Named(rn)
            && !NoRefs(e = FsExt(_session, ctx.Cancellation).noderef_get_xattr(rn.Ref, name, value.Length, value, out int rcount, out int rlength))
            && e != Errno.ESTALE)
        {
            if (e != Errno.OK) return Posix(e);
            size = value.IsEmpty ? rlength : rcount;
            return Errno.OK;
        }
        e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try
        {
            e = Fs(port, ctx.Cancellation).file_get_xattr(name, value.Length, value, out int count, out int length);
            if (e != Errno.OK) return Posix(e);
            size = value.IsEmpty ? length : count;
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Listxattr(in FuseContext ctx, Span<byte> list, out int size)
    {
        size = 0;
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try
        {
            e = Fs(port, ctx.Cancellation).file_list_xattr(list.Length, list, out int count, out int length);
            if (e != Errno.OK) return Posix(e);
            size = list.IsEmpty ? length : count;
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Setxattr(in FuseContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, in SetxattrIn input)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        if (IsTranslatorName(name)) return SetTranslatorXattr(in ctx, value, remove: false);
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out var node, out var port);
        if (e != Errno.OK) return e;
        try
        {
            e = Posix(Fs(port, ctx.Cancellation).file_set_xattr(name, value, (XattrFlags)input.Flags));
            if (e == Errno.OK) AclChanged(in ctx, node, port, name, value.Length > Acl.HeaderSize);
            return e;
        }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Removexattr(in FuseContext ctx, ReadOnlySpan<byte> name)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        if (IsTranslatorName(name)) return SetTranslatorXattr(in ctx, default, remove: true);
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out var node, out var port);
        if (e != Errno.OK) return e;
        try
        {
            e = Posix(Fs(port, ctx.Cancellation).file_remove_xattr(name));
            if (e == Errno.OK) AclChanged(in ctx, node, port, name, present: false);
            return e;
        }
        finally { port.Release(); }
    }
}
