using System.Buffers.Binary;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

/// <summary>An ext2 inode number (1-based; 0 means "none").</summary>
public readonly record struct InodeNumber(uint Value)
{
    /// <summary>The root directory, inode 2.</summary>
    public static InodeNumber Root => new(2);
    /// <inheritdoc/>
    public override string ToString() => Value.ToString();
}

/// <summary>Feature bits of the superblock (ext2.md §1.3).</summary>
public static class Ext2Features
{
    public const uint CompatDirPrealloc = 0x1, CompatImagicInodes = 0x2, CompatHasJournal = 0x4, CompatExtAttr = 0x8,
        CompatResizeInode = 0x10, CompatDirIndex = 0x20;
    public const uint IncompatCompression = 0x1, IncompatFiletype = 0x2, IncompatRecover = 0x4, IncompatJournalDev = 0x8,
        IncompatMetaBg = 0x10, IncompatExtents = 0x40, Incompat64Bit = 0x80, IncompatMmp = 0x100, IncompatFlexBg = 0x200,
        IncompatEaInode = 0x400, IncompatDirData = 0x1000, IncompatCsumSeed = 0x2000, IncompatLargeDir = 0x4000,
        IncompatInlineData = 0x8000, IncompatEncrypt = 0x10000, IncompatCasefold = 0x20000;
    public const uint RoCompatSparseSuper = 0x1, RoCompatLargeFile = 0x2, RoCompatBtreeDir = 0x4, RoCompatHugeFile = 0x8,
        RoCompatGdtCsum = 0x10, RoCompatDirNlink = 0x20, RoCompatExtraIsize = 0x40, RoCompatQuota = 0x100,
        RoCompatBigalloc = 0x200, RoCompatMetadataCsum = 0x400, RoCompatReadonly = 0x1000, RoCompatProject = 0x2000,
        RoCompatVerity = 0x8000, RoCompatOrphanPresent = 0x10000;

    /// <summary>INCOMPAT bits this core handles; any other set bit refuses the mount.</summary>
    public const uint SupportedIncompat = IncompatFiletype;
    /// <summary>RO_COMPAT bits this core can write; any other set bit makes the mount read-only.</summary>
    public const uint SupportedRoCompat = RoCompatSparseSuper | RoCompatLargeFile | RoCompatBtreeDir;

    /// <summary>The e2fsprogs name of an INCOMPAT bit.</summary>
    public static string IncompatName(uint bit) => bit switch
    {
        IncompatCompression => "compression", IncompatFiletype => "filetype", IncompatRecover => "needs_recovery",
        IncompatJournalDev => "journal_dev", IncompatMetaBg => "meta_bg", IncompatExtents => "extent", Incompat64Bit => "64bit",
        IncompatMmp => "mmp", IncompatFlexBg => "flex_bg", IncompatEaInode => "ea_inode", IncompatDirData => "dirdata",
        IncompatCsumSeed => "metadata_csum_seed", IncompatLargeDir => "large_dir", IncompatInlineData => "inline_data",
        IncompatEncrypt => "encrypt", IncompatCasefold => "casefold", _ => $"FEATURE_I{System.Numerics.BitOperations.Log2(bit)}",
    };

    /// <summary>The e2fsprogs name of a RO_COMPAT bit.</summary>
    public static string RoCompatName(uint bit) => bit switch
    {
        RoCompatSparseSuper => "sparse_super", RoCompatLargeFile => "large_file", RoCompatBtreeDir => "btree_dir",
        RoCompatHugeFile => "huge_file", RoCompatGdtCsum => "uninit_bg", RoCompatDirNlink => "dir_nlink",
        RoCompatExtraIsize => "extra_isize", RoCompatQuota => "quota", RoCompatBigalloc => "bigalloc",
        RoCompatMetadataCsum => "metadata_csum", RoCompatReadonly => "read-only", RoCompatProject => "project",
        RoCompatVerity => "verity", RoCompatOrphanPresent => "orphan_present",
        _ => $"FEATURE_R{System.Numerics.BitOperations.Log2(bit)}",
    };
}

/// <summary>Little-endian field access on raw on-disk bytes.</summary>
internal static class Le
{
    public static uint U32(byte[] b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));
    public static ushort U16(byte[] b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(o));
    public static void U32(byte[] b, int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), v);
    public static void U16(byte[] b, int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(o), v);
    public static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
    public static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
    public static void U32(Span<byte> b, int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b[o..], v);
    public static void U16(Span<byte> b, int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b[o..], v);
}

/// <summary>
/// The superblock (1024 bytes at byte 1024), kept as its raw bytes so fields this core does not know
/// survive a rewrite. Offsets are ext2.md §1.2.
/// </summary>
public sealed class Superblock
{
    /// <summary>The ext2 magic number.</summary>
    public const ushort Ext2Magic = 0xEF53;
    /// <summary>s_state bits.</summary>
    public const ushort StateValid = 1, StateError = 2, StateOrphans = 4;

    /// <summary>The 1024 raw bytes.</summary>
    public byte[] Raw { get; }

    /// <summary>Wraps <paramref name="raw"/> (1024 bytes, not copied).</summary>
    public Superblock(byte[] raw) { if (raw.Length != 1024) throw new ArgumentException("superblock is 1024 bytes"); Raw = raw; }

    public uint InodesCount { get => Le.U32(Raw, 0x00); set => Le.U32(Raw, 0x00, value); }
    public uint BlocksCount { get => Le.U32(Raw, 0x04); set => Le.U32(Raw, 0x04, value); }
    public uint RBlocksCount { get => Le.U32(Raw, 0x08); set => Le.U32(Raw, 0x08, value); }
    public uint FreeBlocksCount { get => Le.U32(Raw, 0x0C); set => Le.U32(Raw, 0x0C, value); }
    public uint FreeInodesCount { get => Le.U32(Raw, 0x10); set => Le.U32(Raw, 0x10, value); }
    public uint FirstDataBlock { get => Le.U32(Raw, 0x14); set => Le.U32(Raw, 0x14, value); }
    public uint LogBlockSize { get => Le.U32(Raw, 0x18); set => Le.U32(Raw, 0x18, value); }
    public uint LogFragSize { get => Le.U32(Raw, 0x1C); set => Le.U32(Raw, 0x1C, value); }
    public uint BlocksPerGroup { get => Le.U32(Raw, 0x20); set => Le.U32(Raw, 0x20, value); }
    public uint FragsPerGroup { get => Le.U32(Raw, 0x24); set => Le.U32(Raw, 0x24, value); }
    public uint InodesPerGroup { get => Le.U32(Raw, 0x28); set => Le.U32(Raw, 0x28, value); }
    public uint Mtime { get => Le.U32(Raw, 0x2C); set => Le.U32(Raw, 0x2C, value); }
    public uint Wtime { get => Le.U32(Raw, 0x30); set => Le.U32(Raw, 0x30, value); }
    public ushort MntCount { get => Le.U16(Raw, 0x34); set => Le.U16(Raw, 0x34, value); }
    public short MaxMntCount { get => (short)Le.U16(Raw, 0x36); set => Le.U16(Raw, 0x36, (ushort)value); }
    public ushort Magic { get => Le.U16(Raw, 0x38); set => Le.U16(Raw, 0x38, value); }
    public ushort State { get => Le.U16(Raw, 0x3A); set => Le.U16(Raw, 0x3A, value); }
    public ushort Errors { get => Le.U16(Raw, 0x3C); set => Le.U16(Raw, 0x3C, value); }
    public ushort MinorRevLevel { get => Le.U16(Raw, 0x3E); set => Le.U16(Raw, 0x3E, value); }
    public uint LastCheck { get => Le.U32(Raw, 0x40); set => Le.U32(Raw, 0x40, value); }
    public uint CheckInterval { get => Le.U32(Raw, 0x44); set => Le.U32(Raw, 0x44, value); }
    public uint CreatorOs { get => Le.U32(Raw, 0x48); set => Le.U32(Raw, 0x48, value); }
    public uint RevLevel { get => Le.U32(Raw, 0x4C); set => Le.U32(Raw, 0x4C, value); }
    public ushort DefResuid { get => Le.U16(Raw, 0x50); set => Le.U16(Raw, 0x50, value); }
    public ushort DefResgid { get => Le.U16(Raw, 0x52); set => Le.U16(Raw, 0x52, value); }
    /// <summary>First non-reserved inode (11 for revision 0).</summary>
    public uint FirstIno { get => RevLevel == 0 ? 11 : Le.U32(Raw, 0x54); set => Le.U32(Raw, 0x54, value); }
    /// <summary>Inode record size (128 for revision 0).</summary>
    public ushort InodeSize { get => RevLevel == 0 ? (ushort)128 : Le.U16(Raw, 0x58); set => Le.U16(Raw, 0x58, value); }
    public ushort BlockGroupNr { get => Le.U16(Raw, 0x5A); set => Le.U16(Raw, 0x5A, value); }
    public uint FeatureCompat { get => RevLevel == 0 ? 0 : Le.U32(Raw, 0x5C); set => Le.U32(Raw, 0x5C, value); }
    public uint FeatureIncompat { get => RevLevel == 0 ? 0 : Le.U32(Raw, 0x60); set => Le.U32(Raw, 0x60, value); }
    public uint FeatureRoCompat { get => RevLevel == 0 ? 0 : Le.U32(Raw, 0x64); set => Le.U32(Raw, 0x64, value); }
    public Span<byte> Uuid => Raw.AsSpan(0x68, 16);
    public Span<byte> VolumeName => Raw.AsSpan(0x78, 16);
    public Span<byte> LastMounted => Raw.AsSpan(0x88, 64);
    public ushort ReservedGdtBlocks { get => Le.U16(Raw, 0xCE); set => Le.U16(Raw, 0xCE, value); }
    public uint LastOrphan { get => Le.U32(Raw, 0xE8); set => Le.U32(Raw, 0xE8, value); }
    public Span<byte> HashSeed => Raw.AsSpan(0xEC, 16);
    public byte DefHashVersion { get => Raw[0xFC]; set => Raw[0xFC] = value; }
    public uint DefaultMountOpts { get => Le.U32(Raw, 0x100); set => Le.U32(Raw, 0x100, value); }
    public uint FirstMetaBg { get => Le.U32(Raw, 0x104); set => Le.U32(Raw, 0x104, value); }
    public uint MkfsTime { get => Le.U32(Raw, 0x108); set => Le.U32(Raw, 0x108, value); }
    public ushort MinExtraIsize { get => Le.U16(Raw, 0x15C); set => Le.U16(Raw, 0x15C, value); }
    public ushort WantExtraIsize { get => Le.U16(Raw, 0x15E); set => Le.U16(Raw, 0x15E, value); }
    public uint Flags { get => Le.U32(Raw, 0x160); set => Le.U32(Raw, 0x160, value); }

    /// <summary>Block size in bytes (1024 &lt;&lt; s_log_block_size; the caller validates the shift first).</summary>
    public int BlockSize => 1024 << (int)LogBlockSize;
}

/// <summary>
/// One inode record (s_inode_size bytes), as raw bytes with typed accessors (ext2.md §1.6). Changes
/// stay in this copy until <see cref="Ext2Fs"/> writes it back.
/// </summary>
public sealed class Inode
{
    public const uint FlagImmutable = 0x10, FlagAppend = 0x20, FlagNoAtime = 0x80, FlagIndex = 0x1000, FlagTopDir = 0x20000;
    /// <summary>Number of block pointers in i_block and the indexes of the indirect ones.</summary>
    public const int NBlocks = 15, NDirect = 12, IndBlock = 12, DindBlock = 13, TindBlock = 14;

    /// <summary>The inode number.</summary>
    public uint Number { get; private set; }
    /// <summary>The raw record.</summary>
    public byte[] Raw { get; }

    /// <summary>Wraps a record (not copied).</summary>
    public Inode(uint number, byte[] raw) { Number = number; Raw = raw; }

    /// <summary>Re-points a scratch copy at another inode (the caller has copied its record into <see cref="Raw"/>).</summary>
    internal void Rebind(uint number) => Number = number;

    public ushort Mode { get => Le.U16(Raw, 0x00); set => Le.U16(Raw, 0x00, value); }
    public uint SizeLow { get => Le.U32(Raw, 0x04); set => Le.U32(Raw, 0x04, value); }
    public uint AtimeRaw { get => Le.U32(Raw, 0x08); set => Le.U32(Raw, 0x08, value); }
    public uint CtimeRaw { get => Le.U32(Raw, 0x0C); set => Le.U32(Raw, 0x0C, value); }
    public uint MtimeRaw { get => Le.U32(Raw, 0x10); set => Le.U32(Raw, 0x10, value); }
    public uint Dtime { get => Le.U32(Raw, 0x14); set => Le.U32(Raw, 0x14, value); }
    public ushort LinksCount { get => Le.U16(Raw, 0x1A); set => Le.U16(Raw, 0x1A, value); }
    /// <summary>i_blocks: 512-byte units, data + indirect + xattr blocks.</summary>
    public uint Blocks512 { get => Le.U32(Raw, 0x1C); set => Le.U32(Raw, 0x1C, value); }
    public uint Flags { get => Le.U32(Raw, 0x20); set => Le.U32(Raw, 0x20, value); }
    /// <summary>osd1: i_version on Linux, i_translator on the Hurd.</summary>
    public uint Osd1 { get => Le.U32(Raw, 0x24); set => Le.U32(Raw, 0x24, value); }
    public uint Generation { get => Le.U32(Raw, 0x64); set => Le.U32(Raw, 0x64, value); }
    public uint FileAcl { get => Le.U32(Raw, 0x68); set => Le.U32(Raw, 0x68, value); }
    public uint SizeHigh { get => Le.U32(Raw, 0x6C); set => Le.U32(Raw, 0x6C, value); }
    public ushort ExtraIsize { get => Raw.Length > 128 ? Le.U16(Raw, 0x80) : (ushort)0; set { if (Raw.Length > 128) Le.U16(Raw, 0x80, value); } }

    /// <summary>i_block[<paramref name="i"/>].</summary>
    public uint Block(int i) => Le.U32(Raw, 0x28 + 4 * i);
    /// <summary>Sets i_block[<paramref name="i"/>].</summary>
    public void SetBlock(int i, uint v) => Le.U32(Raw, 0x28 + 4 * i, v);
    /// <summary>The 60 bytes of i_block (fast symlink target, device numbers).</summary>
    public Span<byte> BlockArea => Raw.AsSpan(0x28, 60);

    public uint Uid
    {
        get => Le.U16(Raw, 0x02) | (uint)Le.U16(Raw, 0x78) << 16;
        set { Le.U16(Raw, 0x02, (ushort)value); Le.U16(Raw, 0x78, (ushort)(value >> 16)); }
    }
    public uint Gid
    {
        get => Le.U16(Raw, 0x18) | (uint)Le.U16(Raw, 0x7A) << 16;
        set { Le.U16(Raw, 0x18, (ushort)value); Le.U16(Raw, 0x7A, (ushort)(value >> 16)); }
    }

    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
    public bool IsRegular => (Mode & 0xF000) == 0x8000;
    public bool IsSymlink => (Mode & 0xF000) == 0xA000;
    public bool IsDevice => (Mode & 0xF000) is 0x2000 or 0x6000;

    /// <summary>The file size: i_size_high is used for regular files (large_file) and ignored for others.</summary>
    public long Size
    {
        get => IsRegular ? (long)((ulong)SizeHigh << 32 | SizeLow) : SizeLow;
        set { SizeLow = (uint)value; if (IsRegular) SizeHigh = (uint)((ulong)value >> 32); }
    }

    // Extra time fields: ctime_extra 0x84, mtime_extra 0x88, atime_extra 0x8C, crtime 0x90, crtime_extra 0x94.
    bool HasExtra(int fieldOffset) => Raw.Length >= fieldOffset + 4 && ExtraIsize >= fieldOffset + 4 - 0x80;

    TimeSpec GetTime(int secOff, int extraOff)
    {
        long sec = (int)Le.U32(Raw, secOff);
        long nsec = 0;
        if (HasExtra(extraOff))
        {
            uint extra = Le.U32(Raw, extraOff);
            sec += (long)(extra & 3) << 32;
            nsec = extra >> 2;
            if (nsec > 999_999_999) nsec = 0;
        }
        return new TimeSpec(sec, nsec);
    }

    void SetTime(int secOff, int extraOff, TimeSpec t)
    {
        Le.U32(Raw, secOff, (uint)(int)t.Sec);
        if (HasExtra(extraOff))
        {
            uint epoch = (uint)((t.Sec - (int)t.Sec) >> 32) & 3;
            Le.U32(Raw, extraOff, epoch | (uint)(t.Nsec << 2));
        }
    }

    public TimeSpec Atime { get => GetTime(0x08, 0x8C); set => SetTime(0x08, 0x8C, value); }
    public TimeSpec Ctime { get => GetTime(0x0C, 0x84); set => SetTime(0x0C, 0x84, value); }
    public TimeSpec Mtime { get => GetTime(0x10, 0x88); set => SetTime(0x10, 0x88, value); }
    public TimeSpec Crtime { get => HasExtra(0x90) ? GetTime(0x90, 0x94) : default; set { if (HasExtra(0x90)) SetTime(0x90, 0x94, value); } }
}

/// <summary>Directory entry file types (the filetype byte).</summary>
public enum DirEntryType : byte
{
    Unknown = 0, Regular = 1, Directory = 2, CharDevice = 3, BlockDevice = 4, Fifo = 5, Socket = 6, Symlink = 7,
}

/// <summary>Conversions between ext2 fields and the POSIX ABI.</summary>
public static class Ext2Format
{
    /// <summary>The directory entry type for mode bits.</summary>
    public static DirEntryType TypeOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => DirEntryType.Regular, 0x4000 => DirEntryType.Directory, 0x2000 => DirEntryType.CharDevice,
        0x6000 => DirEntryType.BlockDevice, 0x1000 => DirEntryType.Fifo, 0xC000 => DirEntryType.Socket,
        0xA000 => DirEntryType.Symlink, _ => DirEntryType.Unknown,
    };

    /// <summary>glibc's makedev.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        (minor & 0xffUL) | ((major & 0xfffUL) << 8) | ((minor & ~0xffUL) << 12) | ((major & ~0xfffUL) << 32);
    /// <summary>glibc's major.</summary>
    public static uint Major(ulong dev) => (uint)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL));
    /// <summary>glibc's minor.</summary>
    public static uint Minor(ulong dev) => (uint)((dev & 0xff) | ((dev >> 12) & ~0xffUL));

    /// <summary>Decodes a device node's number from i_block (old 16-bit or new 32-bit encoding).</summary>
    public static ulong DecodeDevice(Inode ino)
    {
        uint b0 = ino.Block(0);
        if (b0 != 0) return MakeDev((b0 >> 8) & 0xff, b0 & 0xff);
        uint b1 = ino.Block(1);
        return MakeDev((b1 & 0xfff00) >> 8, (b1 & 0xff) | ((b1 >> 12) & 0xfff00));
    }

    /// <summary>Encodes a device number into i_block as Linux does (old format when major and minor fit a byte).</summary>
    public static void EncodeDevice(Inode ino, ulong dev)
    {
        uint major = Major(dev), minor = Minor(dev);
        if (major < 256 && minor < 256) { ino.SetBlock(0, major << 8 | minor); ino.SetBlock(1, 0); }
        else { ino.SetBlock(0, 0); ino.SetBlock(1, (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12)); ino.SetBlock(2, 0); }
    }
}
