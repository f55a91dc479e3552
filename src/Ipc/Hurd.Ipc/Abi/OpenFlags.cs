namespace Hurd.Ipc.Abi;

/// <summary>
/// Open flags on the wire, in the Hurd's encoding (hurd/fcntl.h): access is a bit set
/// (O_READ, O_WRITE, O_EXEC), not Linux's 0/1/2 field, and O_NOTRANS / O_NOLINK exist.
/// The FUSE bridge and the shim convert from Linux flags with <see cref="FromLinux"/>.
/// </summary>
[Flags]
public enum OpenFlags : uint
{
    None = 0,
    Read = 0x0001,
    Write = 0x0002,
    Exec = 0x0004,
    /// <summary>Reach the node itself, not the translator on it (O_NOTRANS).</summary>
    NoTrans = 0x0080,
    /// <summary>Do not follow a symlink in the last component (O_NOLINK).</summary>
    NoLink = 0x0040,
    Create = 0x0010,
    Exclusive = 0x0020,
    NonBlock = 0x0008,
    Append = 0x0100,
    Truncate = 0x0200,
    Directory = 0x0400,
    Sync = 0x0800,
    NoAtime = 0x1000,
    CloExec = 0x2000,
    /// <summary>Do not make the file the controlling terminal (accepted, ignored).</summary>
    NoCtty = 0x4000,
    NoFollow = 0x8000,

    /// <summary>Flags that describe the open's access.</summary>
    AccessMask = Read | Write | Exec,
}

/// <summary>Conversion between Linux open(2) flags and <see cref="OpenFlags"/>.</summary>
public static class OpenFlagsLinux
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
    public const int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_APPEND = 0x400,
        O_NONBLOCK = 0x800, O_DSYNC = 0x1000, O_DIRECT = 0x4000, O_LARGEFILE = 0x8000, O_DIRECTORY = 0x10000,
        O_NOFOLLOW = 0x20000, O_NOATIME = 0x40000, O_CLOEXEC = 0x80000, O_SYNC = 0x101000, O_PATH = 0x200000;

    /// <summary>Linux open(2) flags to the wire encoding.</summary>
    public static OpenFlags FromLinux(int f)
    {
        OpenFlags r = (f & O_ACCMODE) switch
        {
            O_WRONLY => OpenFlags.Write,
            O_RDWR => OpenFlags.Read | OpenFlags.Write,
            _ => OpenFlags.Read,
        };
        if ((f & O_CREAT) != 0) r |= OpenFlags.Create;
        if ((f & O_EXCL) != 0) r |= OpenFlags.Exclusive;
        if ((f & O_TRUNC) != 0) r |= OpenFlags.Truncate;
        if ((f & O_APPEND) != 0) r |= OpenFlags.Append;
        if ((f & O_NONBLOCK) != 0) r |= OpenFlags.NonBlock;
        if ((f & O_DIRECTORY) != 0) r |= OpenFlags.Directory;
        if ((f & O_NOFOLLOW) != 0) r |= OpenFlags.NoFollow;
        if ((f & O_NOATIME) != 0) r |= OpenFlags.NoAtime;
        if ((f & O_CLOEXEC) != 0) r |= OpenFlags.CloExec;
        if ((f & O_DSYNC) != 0) r |= OpenFlags.Sync;
        if ((f & O_NOCTTY) != 0) r |= OpenFlags.NoCtty;
        return r;
    }
}
