namespace Hurd.Ipc.Abi;

/// <summary>
/// A file's type and permission bits, as in st_mode (octal S_IF* / S_I* values of Linux),
/// plus the Hurd's translator bits above the POSIX ones (hurd/hurd_types.h: S_IPTRANS,
/// S_IATRANS, S_IROOT). The Hurd bits never reach the Linux kernel: the FUSE bridge masks them.
/// </summary>
[Flags]
public enum FileMode : uint
{
    None = 0,
    /// <summary>Type mask (S_IFMT).</summary>
    TypeMask = 0xF000,
    Fifo = 0x1000,
    CharDevice = 0x2000,
    Directory = 0x4000,
    BlockDevice = 0x6000,
    Regular = 0x8000,
    Symlink = 0xA000,
    Socket = 0xC000,

    SetUid = 0x800,
    SetGid = 0x400,
    Sticky = 0x200,
    /// <summary>All permission bits including suid, sgid, sticky (07777).</summary>
    PermMask = 0xFFF,

    /// <summary>A passive translator record is set on the node (Hurd S_IPTRANS).</summary>
    PassiveTranslator = 0x0100_0000,
    /// <summary>An active translator runs on the node (Hurd S_IATRANS).</summary>
    ActiveTranslator = 0x0200_0000,
    /// <summary>The node is the root of a translator (Hurd S_IROOT).</summary>
    TranslatorRoot = 0x0400_0000,
}

/// <summary>Helpers on <see cref="FileMode"/>.</summary>
public static class FileModeExtensions
{
    public static FileMode Type(this FileMode m) => m & FileMode.TypeMask;
    public static bool IsDirectory(this FileMode m) => (m & FileMode.TypeMask) == FileMode.Directory;
    public static bool IsRegular(this FileMode m) => (m & FileMode.TypeMask) == FileMode.Regular;
    public static bool IsSymlink(this FileMode m) => (m & FileMode.TypeMask) == FileMode.Symlink;
    /// <summary>The bits a POSIX st_mode carries (type and permissions, no Hurd bits).</summary>
    public static uint ToPosix(this FileMode m) => (uint)m & 0xFFFF;
}
