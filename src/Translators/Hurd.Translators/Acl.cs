using System.Buffers.Binary;
using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>
/// POSIX.1e access control lists in the form they cross the FUSE and IPC boundary and the form the SDK stores through
/// <see cref="IXattrs"/>: the VFS xattr format of <c>system.posix_acl_access</c> and <c>system.posix_acl_default</c>
/// (Linux's <c>posix_acl_xattr_header</c>: a little-endian u32 version 2, then 8-byte entries
/// <c>{u16 tag, u16 perm, u32 id}</c>, sorted by tag and, for <see cref="User"/>/<see cref="Group"/>, by id).
/// Everything here works on the bytes in place: parse, validate, format as text, check access (the POSIX.1e
/// algorithm of Linux's <c>posix_acl_permission</c>), and the mode rules (<c>posix_acl_equiv_mode</c>,
/// <c>posix_acl_chmod</c>, <c>posix_acl_create</c>). A filesystem that keeps another on-disk form converts at its
/// own boundary (ext2: <c>Hurd.Ext2.PosixAcl</c>).
/// </summary>
public static class Acl
{
    /// <summary>The access ACL's xattr name.</summary>
    public static ReadOnlySpan<byte> AccessName => "system.posix_acl_access"u8;

    /// <summary>The default ACL's xattr name (directories only).</summary>
    public static ReadOnlySpan<byte> DefaultName => "system.posix_acl_default"u8;

    /// <summary>ACL_USER_OBJ: the owner (mirrors the mode's owner bits).</summary>
    public const ushort UserObj = 0x01;
    /// <summary>ACL_USER: a named user.</summary>
    public const ushort User = 0x02;
    /// <summary>ACL_GROUP_OBJ: the owning group (mirrors the mode's group bits when there is no mask).</summary>
    public const ushort GroupObj = 0x04;
    /// <summary>ACL_GROUP: a named group.</summary>
    public const ushort Group = 0x08;
    /// <summary>ACL_MASK: the most the group class (named users, the owning group, named groups) gets; mirrors the mode's group bits.</summary>
    public const ushort Mask = 0x10;
    /// <summary>ACL_OTHER (mirrors the mode's other bits).</summary>
    public const ushort Other = 0x20;

    /// <summary>POSIX_ACL_XATTR_VERSION.</summary>
    public const uint Version = 2;
    /// <summary>Header bytes (the version).</summary>
    public const int HeaderSize = 4;
    /// <summary>Bytes per entry.</summary>
    public const int EntrySize = 8;
    /// <summary>ACL_UNDEFINED_ID: the id of the entries that name no user or group.</summary>
    public const uint UndefinedId = uint.MaxValue;
    /// <summary>The most entries the SDK accepts (Linux's ext4 limit for a 4 KiB block is about 500; 64 KiB / 8 is the
    /// xattr size bound).</summary>
    public const int MaxEntries = (Limits.XattrSizeMax - HeaderSize) / EntrySize;

    /// <summary>One entry.</summary>
    public readonly record struct Entry(ushort Tag, ushort Perm, uint Id);

    /// <summary>
    /// A bit io_stat adds to st_mode (above POSIX's 16 bits, outside the Hurd's defined ones; never stored) on a
    /// directory whose access ACL says more than its mode: a client that decides from the mode alone whether a
    /// permission answer may be cached (the FUSE bridge's entry cache) must not cache it then.
    /// </summary>
    public const FileMode ExtendedAclMode = (FileMode)0x4000_0000;

    /// <summary>Entries in <paramref name="acl"/> (which must have a whole number of them).</summary>
    public static int Count(ReadOnlySpan<byte> acl) => (acl.Length - HeaderSize) / EntrySize;

    /// <summary>Entry <paramref name="i"/>.</summary>
    public static Entry At(ReadOnlySpan<byte> acl, int i)
    {
        var e = acl.Slice(HeaderSize + i * EntrySize, EntrySize);
        return new Entry(BinaryPrimitives.ReadUInt16LittleEndian(e), BinaryPrimitives.ReadUInt16LittleEndian(e[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(e[4..]));
    }

    static void SetPerm(Span<byte> acl, int i, ushort perm) =>
        BinaryPrimitives.WriteUInt16LittleEndian(acl[(HeaderSize + i * EntrySize + 2)..], perm);

    /// <summary>Is <paramref name="name"/> one of the two ACL xattrs; <paramref name="isDefault"/> says which.</summary>
    public static bool IsAclName(ReadOnlySpan<byte> name, out bool isDefault)
    {
        isDefault = name.SequenceEqual(DefaultName);
        return isDefault || name.SequenceEqual(AccessName);
    }

    /// <summary>
    /// Checks the format and the rules of <c>posix_acl_valid</c>: version 2, whole entries, known tags, permissions
    /// within rwx, entries sorted by tag (and by id within <see cref="User"/> and <see cref="Group"/>, no duplicates),
    /// exactly one <see cref="UserObj"/>, <see cref="GroupObj"/> and <see cref="Other"/>, a <see cref="Mask"/> whenever
    /// there is a named entry. A header with no entries is valid (it means "no ACL"). EINVAL otherwise.
    /// </summary>
    public static Errno Validate(ReadOnlySpan<byte> acl)
    {
        if (acl.Length < HeaderSize || (acl.Length - HeaderSize) % EntrySize != 0) return Errno.EINVAL;
        if (BinaryPrimitives.ReadUInt32LittleEndian(acl) != Version) return Errno.EINVAL;
        int n = Count(acl);
        if (n == 0) return Errno.OK;
        if (n > MaxEntries) return Errno.EINVAL;
        ushort lastTag = 0;
        uint lastId = 0;
        int userObj = 0, groupObj = 0, other = 0, mask = 0, named = 0;
        for (int i = 0; i < n; i++)
        {
            var e = At(acl, i);
            if ((e.Perm & ~7) != 0) return Errno.EINVAL;
            if (e.Tag < lastTag) return Errno.EINVAL;
            switch (e.Tag)
            {
                case UserObj: userObj++; break;
                case GroupObj: groupObj++; break;
                case Mask: mask++; break;
                case Other: other++; break;
                case User or Group:
                    if (e.Id == UndefinedId) return Errno.EINVAL;
                    if (e.Tag == lastTag && e.Id <= lastId) return Errno.EINVAL;
                    named++;
                    lastId = e.Id;
                    break;
                default: return Errno.EINVAL;
            }
            lastTag = e.Tag;
        }
        if (userObj != 1 || groupObj != 1 || other != 1 || mask > 1) return Errno.EINVAL;
        if (named > 0 && mask == 0) return Errno.EINVAL;
        return Errno.OK;
    }

    /// <summary>
    /// posix_acl_equiv_mode: the permission bits (0777) the ACL gives the owner, group class (the mask if present, else
    /// the owning group) and others. True when the ACL says no more than those bits (no named users or groups), so it
    /// need not be stored. The ACL must be valid and not empty.
    /// </summary>
    public static bool EquivalentMode(ReadOnlySpan<byte> acl, out FileMode perm)
    {
        uint mode = 0;
        bool equiv = true;
        int n = Count(acl);
        for (int i = 0; i < n; i++)
        {
            var e = At(acl, i);
            switch (e.Tag)
            {
                case UserObj: mode = (mode & ~0x1c0u) | (uint)e.Perm << 6; break;
                case GroupObj: mode = (mode & ~0x38u) | (uint)e.Perm << 3; break;
                case Mask: mode = (mode & ~0x38u) | (uint)e.Perm << 3; break;
                case Other: mode = (mode & ~7u) | e.Perm; break;
                default: equiv = false; break;
            }
        }
        // Read in order, the mask (0x10) comes after the owning group (0x04) and so wins, as in Linux.
        perm = (FileMode)mode;
        return equiv;
    }

    /// <summary>posix_acl_chmod: the owner, group class (mask, else owning group) and other entries take the permission
    /// bits of <paramref name="perm"/>; named entries are left (the mask limits them).</summary>
    public static void Chmod(Span<byte> acl, FileMode perm)
    {
        uint m = (uint)perm;
        int n = Count(acl);
        int groupObj = -1;
        bool hasMask = false;
        for (int i = 0; i < n; i++)
        {
            switch (At(acl, i).Tag)
            {
                case UserObj: SetPerm(acl, i, (ushort)((m >> 6) & 7)); break;
                case GroupObj: groupObj = i; break;
                case Mask: hasMask = true; SetPerm(acl, i, (ushort)((m >> 3) & 7)); break;
                case Other: SetPerm(acl, i, (ushort)(m & 7)); break;
            }
        }
        if (!hasMask && groupObj >= 0) SetPerm(acl, groupObj, (ushort)((m >> 3) & 7));
    }

    /// <summary>
    /// __posix_acl_create: a new node's access ACL starts as its directory's default ACL (copied into
    /// <paramref name="acl"/>) and is cut down by the permission bits the creator asked for in
    /// <paramref name="perm"/>; the bits are cut down by the ACL in turn. True when the result has named entries and so
    /// must be stored (else the mode says it all).
    /// </summary>
    public static bool Create(Span<byte> acl, ref FileMode perm)
    {
        uint m = (uint)perm;
        int n = Count(acl);
        int groupObj = -1, mask = -1;
        bool notEquiv = false;
        for (int i = 0; i < n; i++)
        {
            var e = At(acl, i);
            switch (e.Tag)
            {
                case UserObj:
                    SetPerm(acl, i, (ushort)(e.Perm & ((m >> 6) & 7)));
                    m &= (uint)At(acl, i).Perm << 6 | ~0x1c0u;
                    break;
                case GroupObj: groupObj = i; break;
                case Mask: mask = i; break;
                case Other:
                    SetPerm(acl, i, (ushort)(e.Perm & (m & 7)));
                    m &= At(acl, i).Perm | ~7u;
                    break;
                default: notEquiv = true; break;
            }
        }
        int g = mask >= 0 ? mask : groupObj;
        if (g >= 0)
        {
            if (mask >= 0) notEquiv = true;
            var e = At(acl, g);
            SetPerm(acl, g, (ushort)(e.Perm & ((m >> 3) & 7)));
            m &= (uint)At(acl, g).Perm << 3 | ~0x38u;
        }
        perm = (FileMode)m;
        return notEquiv;
    }

    /// <summary>
    /// posix_acl_permission: may <paramref name="who"/> (not root: root's rules are <see cref="Permissions.Check"/>'s)
    /// access a node owned by <paramref name="st"/>'s uid and gid with access ACL <paramref name="acl"/> as
    /// <paramref name="want"/>? The owner gets the owner entry; a named user its entry within the mask; a member of the
    /// owning group or of named groups any matching entry that grants everything asked, within the mask, and EACCES if
    /// none does; everyone else the other entry. EACCES when denied; EIO for an ACL that is not valid.
    /// </summary>
    public static Errno Check(Identity who, in Stat st, ReadOnlySpan<byte> acl, Access want)
    {
        uint w = (uint)want & 7;
        int n = Count(acl);
        bool foundGroup = false;
        int granted = -1;
        for (int i = 0; i < n && granted < 0; i++)
        {
            var e = At(acl, i);
            switch (e.Tag)
            {
                case UserObj:
                    if (who.HasUid(st.Uid)) return (e.Perm & w) == w ? Errno.OK : Errno.EACCES;
                    break;
                case User:
                    if (who.HasUid(e.Id)) granted = i;
                    break;
                case GroupObj:
                    if (who.HasGid(st.Gid)) { foundGroup = true; if ((e.Perm & w) == w) granted = i; }
                    break;
                case Group:
                    if (who.HasGid(e.Id)) { foundGroup = true; if ((e.Perm & w) == w) granted = i; }
                    break;
                case Mask: break;
                case Other:
                    if (foundGroup) return Errno.EACCES;
                    return (e.Perm & w) == w ? Errno.OK : Errno.EACCES;
                default: return Errno.EIO;
            }
        }
        if (granted < 0) return Errno.EIO;
        uint perm = At(acl, granted).Perm;
        for (int i = granted + 1; i < n; i++)
        {
            var e = At(acl, i);
            if (e.Tag == Mask) { perm &= e.Perm; break; }
        }
        return (perm & w) == w ? Errno.OK : Errno.EACCES;
    }

    /// <summary>The minimal ACL (owner, owning group, other) for permission bits <paramref name="perm"/>.</summary>
    public static byte[] FromMode(FileMode perm)
    {
        uint m = (uint)perm;
        return Build([new(UserObj, (ushort)((m >> 6) & 7), UndefinedId), new(GroupObj, (ushort)((m >> 3) & 7), UndefinedId),
            new(Other, (ushort)(m & 7), UndefinedId)]);
    }

    /// <summary>The VFS bytes of <paramref name="entries"/> (in the order given; sort them by tag and id for a valid ACL).</summary>
    public static byte[] Build(ReadOnlySpan<Entry> entries)
    {
        var b = new byte[HeaderSize + entries.Length * EntrySize];
        BinaryPrimitives.WriteUInt32LittleEndian(b, Version);
        for (int i = 0; i < entries.Length; i++)
        {
            var s = b.AsSpan(HeaderSize + i * EntrySize);
            BinaryPrimitives.WriteUInt16LittleEndian(s, entries[i].Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(s[2..], entries[i].Perm);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], entries[i].Tag is User or Group ? entries[i].Id : UndefinedId);
        }
        return b;
    }

    /// <summary>
    /// Parses the short text form <c>setfacl</c> takes (<c>u::rwx,u:1000:r-x,g::r-x,g:50:rw-,m::rwx,o::---</c>; numeric
    /// ids only, also <c>user:</c>/<c>group:</c>/<c>mask:</c>/<c>other:</c>, entries separated by commas or newlines)
    /// into a sorted ACL. EINVAL for text it cannot read or an ACL that is not valid.
    /// </summary>
    public static Errno Parse(string text, out byte[] acl)
    {
        acl = [];
        var list = new List<Entry>();
        foreach (var raw in text.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = raw.Split(':');
            if (parts.Length != 3 || parts[2].Length != 3) return Errno.EINVAL;
            ushort perm = 0;
            for (int k = 0; k < 3; k++)
            {
                char c = parts[2][k];
                if (c == "rwx"[k]) perm |= (ushort)(4 >> k);
                else if (c != '-') return Errno.EINVAL;
            }
            bool named = parts[1].Length > 0;
            uint id = UndefinedId;
            if (named && !uint.TryParse(parts[1], out id)) return Errno.EINVAL;
            ushort tag = parts[0] switch
            {
                "u" or "user" => named ? User : UserObj,
                "g" or "group" => named ? Group : GroupObj,
                "m" or "mask" when !named => Mask,
                "o" or "other" when !named => Other,
                _ => 0,
            };
            if (tag == 0) return Errno.EINVAL;
            list.Add(new Entry(tag, perm, id));
        }
        list.Sort((a, b) => a.Tag != b.Tag ? a.Tag.CompareTo(b.Tag) : a.Id.CompareTo(b.Id));
        var bytes = Build(list.ToArray());
        var v = Validate(bytes);
        if (v != Errno.OK) return v;
        acl = bytes;
        return Errno.OK;
    }

    /// <summary>The short text form (<c>u::rw-,u:1000:r--,g::r--,m::r--,o::---</c>) of a valid ACL.</summary>
    public static string Format(ReadOnlySpan<byte> acl)
    {
        var sb = new StringBuilder();
        int n = Count(acl);
        for (int i = 0; i < n; i++)
        {
            var e = At(acl, i);
            if (i > 0) sb.Append(',');
            sb.Append(e.Tag switch { UserObj or User => "u", GroupObj or Group => "g", Mask => "m", Other => "o", _ => "?" });
            sb.Append(':');
            if (e.Tag is User or Group) sb.Append(e.Id);
            sb.Append(':');
            sb.Append((e.Perm & 4) != 0 ? 'r' : '-').Append((e.Perm & 2) != 0 ? 'w' : '-').Append((e.Perm & 1) != 0 ? 'x' : '-');
        }
        return sb.ToString();
    }
}
