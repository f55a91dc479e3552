using Hurd.Ipc.Abi;

namespace Hurd.Translators;

// POSIX ACLs in the SDK (Linux's fs/posix_acl.c, done once for every translator). A node keeps its ACLs as ordinary
// xattrs through IXattrs, in the VFS format of Acl; the SDK gives them their meaning:
// - setting system.posix_acl_access validates it, sets the mode's permission bits from it and stores it only when it
//   says more than the mode (named entries); file_chmod rewrites a stored one's owner/mask/other entries;
// - system.posix_acl_default is a directory's; a node created in such a directory gets it (cut down by the mode asked
//   for) as its access ACL, and a directory also as its default ACL;
// - permission checks of callers that are neither root nor the owner honour named users and groups within the mask.
public static partial class Calls
{
    /// <summary>ACLs up to this many entries are read into a stack buffer.</summary>
    const int AclStackEntries = 32;

    /// <summary>
    /// <see cref="Permissions.Check"/> with the node's access ACL: root and the owner need only the mode (the ACL's owner
    /// entry mirrors it); anyone else is checked against the ACL when the node has one. EACCES when denied.
    /// </summary>
    public static Errno CheckAccess(Identity who, Node node, in Stat st, Access want)
    {
        if (who.IsRoot || who.HasUid(st.Uid) || node.AsXattrs is not { } x) return Permissions.Check(who, st, want);
        // The common case, no ACL, costs one size query.
        if (x.Getxattr(Acl.AccessName, default, out int size) != Errno.OK || size <= Acl.HeaderSize)
            return Permissions.Check(who, st, want);
        Span<byte> buf = stackalloc byte[Acl.HeaderSize + AclStackEntries * Acl.EntrySize];
        var e = ReadAcl(x, Acl.AccessName, ref buf);
        if (e != Errno.OK || Acl.Count(buf) == 0 || Acl.Validate(buf) != Errno.OK) return Permissions.Check(who, st, want);
        return Acl.Check(who, st, buf, want);
    }

    /// <summary>io_stat's addition for a directory with a stored access ACL: <see cref="Acl.ExtendedAclMode"/>.</summary>
    static void MarkExtendedAcl(Node node, ref Stat st)
    {
        if (st.Mode.IsDirectory() && node.AsXattrs is { } x && x.Getxattr(Acl.AccessName, default, out int n) == Errno.OK
            && n > Acl.HeaderSize)
            st.Mode |= Acl.ExtendedAclMode;
    }

    /// <summary>Reads an ACL xattr into <paramref name="buf"/> (replaced by a larger array when it does not fit) and
    /// narrows it to the value. ENODATA when absent. An empty buffer asks the size first.</summary>
    static Errno ReadAcl(IXattrs x, ReadOnlySpan<byte> name, ref Span<byte> buf)
    {
        Errno e = Errno.ERANGE;
        int n = 0;
        for (int attempt = 0; attempt < 3 && e == Errno.ERANGE; attempt++)
        {
            if (attempt > 0)
            {
                // Grown meanwhile (or the first try did not fit): ask the size, then read into a buffer that size.
                e = x.Getxattr(name, default, out n);
                if (e != Errno.OK) return e;
                if (n > buf.Length) buf = new byte[n];
            }
            e = x.Getxattr(name, buf, out n);
        }
        if (e != Errno.OK) return e;
        buf = buf[..n];
        return Errno.OK;
    }

    /// <summary>
    /// setxattr / removexattr of an ACL name (<paramref name="value"/> null = remove), after the namespace rules
    /// (<see cref="XattrAccess"/>: owner or root). The access ACL: EINVAL when not valid; the mode's permission bits
    /// become the ACL's (S_ISGID dropped for a non-root caller outside the group, as Linux's posix_acl_update_mode);
    /// stored only when not equivalent to the mode, else removed. The default ACL: directories only (EACCES). An ACL
    /// with no entries means remove; removing an absent ACL succeeds.
    /// </summary>
    static Errno SetAcl(Protid who, Node node, IXattrs x, bool isDefault, ReadOnlySpan<byte> value, bool remove)
    {
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        if (!remove)
        {
            e = Acl.Validate(value);
            if (e != Errno.OK) return e;
            remove = Acl.Count(value) == 0;
        }
        if (isDefault && !st.Mode.IsDirectory()) return remove ? Errno.OK : Errno.EACCES;
        var name = isDefault ? Acl.DefaultName : Acl.AccessName;
        if (!remove && !isDefault)
        {
            bool equiv = Acl.EquivalentMode(value, out var perm);
            var mode = (st.Mode & FileMode.PermMask & ~(FileMode)0x1ff) | perm;
            if (!who.User.IsRoot && !who.User.HasGid(st.Gid)) mode &= ~FileMode.SetGid;
            e = equiv ? x.Removexattr(name) : x.Setxattr(name, value, XattrFlags.None);
            if (e != Errno.OK && !(equiv && e == Errno.ENODATA)) return e;
            if (mode != (st.Mode & FileMode.PermMask) && node is IAttributes a)
                return a.SetAttributes(new SetAttr { Valid = AttrMask.Mode, Mode = mode });
            return Errno.OK;
        }
        e = remove ? x.Removexattr(name) : x.Setxattr(name, value, XattrFlags.None);
        return remove && e == Errno.ENODATA ? Errno.OK : e;
    }

    /// <summary>After file_chmod: a stored access ACL takes the new permission bits (posix_acl_chmod).</summary>
    static Errno ChmodAcl(Node node, FileMode perm)
    {
        if (node is not IXattrs x) return Errno.OK;
        Span<byte> buf = stackalloc byte[Acl.HeaderSize + AclStackEntries * Acl.EntrySize];
        var e = ReadAcl(x, Acl.AccessName, ref buf);
        if (e != Errno.OK || Acl.Validate(buf) != Errno.OK || Acl.Count(buf) == 0) return Errno.OK;
        Acl.Chmod(buf, perm);
        return x.Setxattr(Acl.AccessName, buf, XattrFlags.None);
    }

    /// <summary>
    /// What a node created in <paramref name="dir"/> inherits: with no default ACL there, nothing (the mode as asked,
    /// umask already applied by the client). With one, <paramref name="attrs"/>' permission bits are cut down by it
    /// (posix_acl_create) and <see cref="AclInheritance.Apply"/> stores the new node's ACLs once it exists.
    /// </summary>
    static AclInheritance InheritAcl(Node dir, ref NewNode attrs)
    {
        if (dir is not IXattrs x || attrs.Mode.IsSymlink()) return default;
        if (x.Getxattr(Acl.DefaultName, default, out int size) != Errno.OK || size <= Acl.HeaderSize) return default;
        Span<byte> buf = stackalloc byte[Acl.HeaderSize + AclStackEntries * Acl.EntrySize];
        if (ReadAcl(x, Acl.DefaultName, ref buf) != Errno.OK || Acl.Count(buf) == 0 || Acl.Validate(buf) != Errno.OK)
            return default;
        var dflt = buf.ToArray();
        var access = buf.ToArray();
        var perm = attrs.Mode & FileMode.PermMask;
        bool store = Acl.Create(access, ref perm);
        attrs = attrs with { Mode = attrs.Mode.Type() | perm };
        return new AclInheritance(store ? access : null, attrs.Mode.IsDirectory() ? dflt : null);
    }

    /// <summary>The ACLs a new node gets from its directory's default ACL (see <see cref="InheritAcl"/>).</summary>
    readonly struct AclInheritance(byte[]? access, byte[]? dflt)
    {
        /// <summary>Stores them on <paramref name="node"/>. Failures are ignored: the mode already says the essentials.</summary>
        public void Apply(Node? node)
        {
            if (node is not IXattrs x) return;
            if (access is not null) x.Setxattr(Acl.AccessName, access, XattrFlags.None);
            if (dflt is not null) x.Setxattr(Acl.DefaultName, dflt, XattrFlags.None);
        }
    }
}
