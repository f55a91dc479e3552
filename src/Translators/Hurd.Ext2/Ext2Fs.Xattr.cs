using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

/// <summary>setxattr flags (Linux values).</summary>
[Flags]
public enum XattrFlags
{
    None = 0, Create = 1, Replace = 2,
}

public sealed partial class Ext2Fs
{
    const uint XattrMagic = 0xEA020000;

    sealed record XEntry(byte Index, byte[] Name, byte[] Value);

    static readonly (string Prefix, byte Index, bool Exact)[] XattrPrefixes =
    [
        ("system.posix_acl_access", 2, true), ("system.posix_acl_default", 3, true),
        ("user.", 1, false), ("trusted.", 4, false), ("security.", 6, false), ("system.", 7, false), ("gnu.", 10, false),
    ];

    /// <summary>Splits a VFS xattr name into ext2's name index and suffix; false for an unknown namespace.</summary>
    static bool SplitXattrName(string name, out byte index, out byte[] suffix)
    {
        foreach (var (prefix, idx, exact) in XattrPrefixes)
        {
            if (exact ? name == prefix : name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
            {
                index = idx;
                suffix = Encoding.UTF8.GetBytes(exact ? "" : name[prefix.Length..]);
                return true;
            }
        }
        index = 0; suffix = [];
        return false;
    }

    static string? JoinXattrName(byte index, byte[] suffix)
    {
        foreach (var (prefix, idx, exact) in XattrPrefixes)
            if (idx == index) return exact ? prefix : prefix + Encoding.UTF8.GetString(suffix);
        return null;
    }

    static int Pad4(int n) => (n + 3) & ~3;

    /// <summary>The ext2 entry hash (e2fsprogs ext2fs_ext_attr_hash_entry, unsigned name bytes).</summary>
    internal static uint XattrEntryHash(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        uint h = 0;
        foreach (byte c in name) h = (h << 5) ^ (h >> 27) ^ c;
        for (int i = 0; i < value.Length; i += 4)
        {
            uint w = 0;
            for (int k = 0; k < 4 && i + k < value.Length; k++) w |= (uint)value[i + k] << (8 * k);
            h = (h << 16) ^ (h >> 16) ^ w;
        }
        return h;
    }

    int InInodeXattrStart(Inode inode) => 128 + inode.ExtraIsize;
    bool InInodeXattrUsable(Inode inode) => InodeSize > 128 && inode.ExtraIsize >= 4 && InInodeXattrStart(inode) + 8 <= InodeSize;

    /// <summary>Parses an entry table; values at valueBase + e_value_offs, all inside [0, end).</summary>
    static Errno ParseXattrEntries(ReadOnlySpan<byte> buf, int off, int valueBase, int end, List<XEntry> list)
    {
        for (int count = 0; ; count++)
        {
            if (off + 4 > end || count > end / 16) return Errno.EIO;
            if (Le.U32(buf, off) == 0) return Errno.OK;
            if (off + 16 > end) return Errno.EIO;
            int nameLen = buf[off];
            byte index = buf[off + 1];
            int voffs = Le.U16(buf, off + 2);
            uint vinum = Le.U32(buf, off + 4);
            uint vsize = Le.U32(buf, off + 8);
            int elen = Pad4(16 + nameLen);
            if (vinum != 0 || off + elen > end) return Errno.EIO;
            if (vsize > (uint)end || (vsize > 0 && (valueBase + voffs < off + elen || (long)valueBase + voffs + vsize > end))) return Errno.EIO;
            var name = buf.Slice(off + 16, nameLen).ToArray();
            var value = vsize > 0 ? buf.Slice(valueBase + voffs, (int)vsize).ToArray() : [];
            list.Add(new XEntry(index, name, value));
            off += elen;
        }
    }

    Errno XattrLoad(Inode inode, List<XEntry> all)
    {
        if (InInodeXattrUsable(inode))
        {
            int start = InInodeXattrStart(inode);
            if (Le.U32(inode.Raw, start) == XattrMagic)
            {
                var err = ParseXattrEntries(inode.Raw, start + 4, start + 4, InodeSize, all);
                if (err != Errno.OK) return err;
            }
        }
        if (inode.FileAcl != 0)
        {
            if (!ValidDataBlock(inode.FileAcl) || IsMetadataBlock(inode.FileAcl)) return Errno.EIO;
            var err = Cache.Get(inode.FileAcl, out var data);
            if (err != Errno.OK) return err;
            if (Le.U32(data, 0) != XattrMagic || Le.U32(data, 8) != 1) return Errno.EIO;
            err = ParseXattrEntries(data, 32, 0, BlockSize, all);
            if (err != Errno.OK) return err;
        }
        return Errno.OK;
    }

    /// <summary>Detaches the xattr block: drops a shared block's refcount, frees an unshared one; i_blocks follows.</summary>
    Errno XattrDropBlock(Inode inode)
    {
        uint b = inode.FileAcl;
        if (b == 0) return Errno.OK;
        inode.FileAcl = 0;
        uint units = (uint)(BlockSize / 512);
        inode.Blocks512 = inode.Blocks512 >= units ? inode.Blocks512 - units : 0;
        if (!ValidDataBlock(b) || IsMetadataBlock(b)) return Errno.EIO;
        var err = Cache.Get(b, out var data);
        if (err != Errno.OK) return err;
        if (Le.U32(data, 0) != XattrMagic) return Errno.EIO;
        uint refs = Le.U32(data, 4);
        if (refs > 1) { Le.U32(data, 4, refs - 1); Cache.MarkDirty(b, data); return Errno.OK; }
        return FreeBlock(b);
    }

    static int XattrCost(XEntry e) => Pad4(16 + e.Name.Length) + Pad4(e.Value.Length);

    /// <summary>Writes <paramref name="all"/> back: into the inode as far as it fits, the rest into one block.</summary>
    Errno XattrStore(Inode inode, List<XEntry> all)
    {
        all.Sort((x, y) =>
        {
            int c = x.Index.CompareTo(y.Index);
            if (c == 0) c = x.Name.Length.CompareTo(y.Name.Length);
            if (c == 0) c = x.Name.AsSpan().SequenceCompareTo(y.Name);
            return c;
        });
        var inIn = new List<XEntry>();
        var inBlk = new List<XEntry>();
        int inodeRoom = InInodeXattrUsable(inode) ? InodeSize - InInodeXattrStart(inode) - 8 : 0;
        int blockRoom = BlockSize - 32 - 4;
        foreach (var e in all)
        {
            int c = XattrCost(e);
            if (c <= inodeRoom) { inIn.Add(e); inodeRoom -= c; }
            else if (c <= blockRoom) { inBlk.Add(e); blockRoom -= c; }
            else return Errno.ENOSPC;
        }
        // In-inode area.
        if (InInodeXattrUsable(inode))
        {
            int start = InInodeXattrStart(inode);
            var region = inode.Raw.AsSpan(start, InodeSize - start);
            region.Clear();
            if (inIn.Count > 0)
            {
                Le.U32(region, 0, XattrMagic);
                WriteXattrEntries(region, 4, 4, inIn);
            }
        }
        // Block.
        if (inBlk.Count == 0) return XattrDropBlock(inode);
        uint old = inode.FileAcl;
        uint target = 0;
        if (old != 0 && ValidDataBlock(old) && Cache.Get(old, out var od) == Errno.OK && Le.U32(od, 0) == XattrMagic && Le.U32(od, 4) <= 1)
            target = old;
        if (target == 0)
        {
            uint g = (inode.Number - 1) / InodesPerGroup;
            var err = AllocBlock(GroupFirstBlock(g), inode.Uid == 0, out target);
            if (err != Errno.OK) return err;
            if (old != 0) XattrDropBlock(inode); // shared: drop our reference (i_blocks -1 block)
            inode.Blocks512 += (uint)(BlockSize / 512);
            inode.FileAcl = target;
        }
        var e2 = Cache.GetZeroed(target, out var data);
        if (e2 != Errno.OK) return e2;
        Le.U32(data, 0, XattrMagic);
        Le.U32(data, 4, 1);
        Le.U32(data, 8, 1);
        uint bh = WriteXattrEntries(data, 32, 0, inBlk);
        Le.U32(data, 12, bh);
        Cache.MarkDirty(target, data);
        return Errno.OK;
    }

    /// <summary>Lays out entries from <paramref name="off"/> and values from the end of <paramref name="buf"/>; returns the block hash.</summary>
    static uint WriteXattrEntries(Span<byte> buf, int off, int valueBase, List<XEntry> list)
    {
        int vpos = buf.Length;
        uint blockHash = 0;
        foreach (var e in list)
        {
            vpos -= Pad4(e.Value.Length);
            e.Value.CopyTo(buf[vpos..]);
            buf[off] = (byte)e.Name.Length;
            buf[off + 1] = e.Index;
            Le.U16(buf, off + 2, (ushort)(e.Value.Length > 0 ? vpos - valueBase : 0));
            Le.U32(buf, off + 4, 0);
            Le.U32(buf, off + 8, (uint)e.Value.Length);
            uint h = XattrEntryHash(e.Name, e.Value);
            Le.U32(buf, off + 12, h);
            e.Name.CopyTo(buf[(off + 16)..]);
            off += Pad4(16 + e.Name.Length);
            blockHash = (blockHash << 16) ^ (blockHash >> 16) ^ h;
        }
        return blockHash;
    }

    /// <summary>The value of xattr <paramref name="name"/> (full VFS name, e.g. "user.x"). ENODATA if absent, EOPNOTSUPP for an unknown namespace. POSIX ACLs come back in the VFS format.</summary>
    public Errno Getxattr(InodeNumber ino, string name, out byte[] value)
    {
        value = [];
        if (!SplitXattrName(name, out byte index, out var suffix)) return Errno.EOPNOTSUPP;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            var all = new List<XEntry>();
            err = XattrLoad(inode, all);
            if (err != Errno.OK) return err;
            foreach (var e in all)
            {
                if (e.Index != index || !e.Name.AsSpan().SequenceEqual(suffix)) continue;
                if (index is 2 or 3) return PosixAcl.FromDisk(e.Value, out value);
                value = e.Value;
                return Errno.OK;
            }
            return Errno.ENODATA;
        }
        finally { EndRead(); }
    }

    /// <summary>Every xattr name of an inode (unknown name indexes are skipped).</summary>
    public Errno Listxattr(InodeNumber ino, out List<string> names)
    {
        names = [];
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            var all = new List<XEntry>();
            err = XattrLoad(inode, all);
            if (err != Errno.OK) return err;
            foreach (var e in all) if (JoinXattrName(e.Index, e.Name) is { } n) names.Add(n);
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>
    /// Sets an xattr (in the inode if it fits, else in the xattr block; a shared block is copied first).
    /// POSIX ACL values are taken in the VFS format and stored in ext2's. ENOSPC if it cannot fit.
    /// </summary>
    public Errno Setxattr(InodeNumber ino, string name, ReadOnlySpan<byte> value, XattrFlags flags = XattrFlags.None)
    {
        if (!SplitXattrName(name, out byte index, out var suffix)) return Errno.EOPNOTSUPP;
        if (suffix.Length > 255) return Errno.ERANGE;
        byte[] stored;
        if (index is 2 or 3)
        {
            var e = PosixAcl.ToDisk(value, out stored);
            if (e != Errno.OK) return e;
        }
        else stored = value.ToArray();
        if (stored.Length > BlockSize - 32 - 4 - Pad4(16 + suffix.Length)) return Errno.ENOSPC;
        return XattrChange(ino, index, suffix, stored, flags);
    }

    /// <summary>
    /// getxattr(2) shape: copies the value into <paramref name="value"/> and sets <paramref name="size"/>;
    /// with an empty buffer only the size is set; ERANGE when the buffer is too small.
    /// </summary>
    public Errno Getxattr(InodeNumber ino, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        var err = Getxattr(ino, Encoding.UTF8.GetString(name), out var v);
        if (err != Errno.OK) return err;
        size = v.Length;
        if (value.Length == 0) return Errno.OK;
        if (value.Length < v.Length) return Errno.ERANGE;
        v.CopyTo(value);
        return Errno.OK;
    }

    /// <summary>
    /// listxattr(2) shape: the NUL-terminated names into <paramref name="list"/>, <paramref name="size"/> their
    /// total length; with an empty buffer only the size is set; ERANGE when too small.
    /// </summary>
    public Errno Listxattr(InodeNumber ino, Span<byte> list, out int size)
    {
        size = 0;
        var err = Listxattr(ino, out var names);
        if (err != Errno.OK) return err;
        foreach (var n in names) size += Encoding.UTF8.GetByteCount(n) + 1;
        if (list.Length == 0) return Errno.OK;
        if (list.Length < size) return Errno.ERANGE;
        int off = 0;
        foreach (var n in names)
        {
            off += Encoding.UTF8.GetBytes(n, list[off..]);
            list[off++] = 0;
        }
        return Errno.OK;
    }

    /// <summary>Sets an xattr named by bytes (see <see cref="Setxattr(InodeNumber, string, ReadOnlySpan{byte}, XattrFlags)"/>).</summary>
    public Errno Setxattr(InodeNumber ino, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags) =>
        Setxattr(ino, Encoding.UTF8.GetString(name), value, flags);

    /// <summary>Removes an xattr named by bytes. ENODATA if absent.</summary>
    public Errno Removexattr(InodeNumber ino, ReadOnlySpan<byte> name) => Removexattr(ino, Encoding.UTF8.GetString(name));

    /// <summary>Removes an xattr. ENODATA if absent.</summary>
    public Errno Removexattr(InodeNumber ino, string name)
    {
        if (!SplitXattrName(name, out byte index, out var suffix)) return Errno.EOPNOTSUPP;
        return XattrChange(ino, index, suffix, null, XattrFlags.Replace);
    }

    Errno XattrChange(InodeNumber ino, byte index, byte[] suffix, byte[]? value, XattrFlags flags)
    {
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            var all = new List<XEntry>();
            err = XattrLoad(inode, all);
            if (err != Errno.OK) return err;
            int at = all.FindIndex(e => e.Index == index && e.Name.AsSpan().SequenceEqual(suffix));
            if (at >= 0 && (flags & XattrFlags.Create) != 0) return Errno.EEXIST;
            if (at < 0 && (flags & XattrFlags.Replace) != 0) return Errno.ENODATA;
            if (at >= 0) all.RemoveAt(at);
            if (value != null) all.Add(new XEntry(index, suffix, value));
            if (value != null && (_sb.FeatureCompat & Ext2Features.CompatExtAttr) == 0 && _sb.RevLevel >= 1)
            {
                // As Linux's ext2_xattr_update_super_block: the first xattr turns the (compat) feature on.
                _sb.FeatureCompat |= Ext2Features.CompatExtAttr;
                _sbDirty = true;
            }
            else if (value != null && _sb.RevLevel == 0) return Errno.EOPNOTSUPP;
            err = XattrStore(inode, all);
            if (err != Errno.OK) return err;
            inode.Ctime = Now();
            return WriteInode(inode);
        }
        finally { EndWrite(); }
    }
}

/// <summary>
/// POSIX ACL conversion between the VFS xattr format (version 2, 8-byte entries) and ext2's on-disk
/// format (version 1; 4-byte entries for USER_OBJ, GROUP_OBJ, MASK, OTHER; 8-byte for USER and GROUP).
/// </summary>
public static class PosixAcl
{
    const ushort UserObj = 1, User = 2, GroupObj = 4, Group = 8, Mask = 0x10, Other = 0x20;

    /// <summary>VFS → ext2. EINVAL for a malformed ACL.</summary>
    public static Errno ToDisk(ReadOnlySpan<byte> vfs, out byte[] disk)
    {
        disk = [];
        if (vfs.Length < 4 || (vfs.Length - 4) % 8 != 0 || Le.U32(vfs, 0) != 2) return Errno.EINVAL;
        var outp = new List<byte>(vfs.Length);
        Span<byte> tmp = stackalloc byte[8];
        Le.U32(tmp, 0, 1);
        outp.AddRange(tmp[..4]);
        for (int off = 4; off < vfs.Length; off += 8)
        {
            ushort tag = Le.U16(vfs, off), perm = Le.U16(vfs, off + 2);
            uint id = Le.U32(vfs, off + 4);
            Le.U16(tmp, 0, tag); Le.U16(tmp, 2, perm);
            switch (tag)
            {
                case UserObj or GroupObj or Mask or Other: outp.AddRange(tmp[..4]); break;
                case User or Group: Le.U32(tmp, 4, id); outp.AddRange(tmp[..8]); break;
                default: return Errno.EINVAL;
            }
        }
        disk = outp.ToArray();
        return Errno.OK;
    }

    /// <summary>ext2 → VFS. EIO for a malformed on-disk ACL.</summary>
    public static Errno FromDisk(ReadOnlySpan<byte> disk, out byte[] vfs)
    {
        vfs = [];
        if (disk.Length < 4 || Le.U32(disk, 0) != 1) return Errno.EIO;
        var outp = new List<byte>();
        Span<byte> tmp = stackalloc byte[8];
        Le.U32(tmp, 0, 2);
        outp.AddRange(tmp[..4]);
        for (int off = 4; off < disk.Length;)
        {
            if (off + 4 > disk.Length) return Errno.EIO;
            ushort tag = Le.U16(disk, off), perm = Le.U16(disk, off + 2);
            uint id;
            if (tag is UserObj or GroupObj or Mask or Other) { id = uint.MaxValue; off += 4; }
            else if (tag is User or Group) { if (off + 8 > disk.Length) return Errno.EIO; id = Le.U32(disk, off + 4); off += 8; }
            else return Errno.EIO;
            Le.U16(tmp, 0, tag); Le.U16(tmp, 2, perm); Le.U32(tmp, 4, id);
            outp.AddRange(tmp);
        }
        vfs = outp.ToArray();
        return Errno.OK;
    }
}
