using System.Runtime.InteropServices;

namespace Hurd.Ipc.Abi;

/// <summary>A timestamp with nanoseconds, as in struct timespec.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TimeSpec : IEquatable<TimeSpec>
{
    public long Sec;
    public long Nsec;

    /// <summary>utimensat's UTIME_NOW: "set to the current time".</summary>
    public const long UtimeNow = (1L << 30) - 1;
    /// <summary>utimensat's UTIME_OMIT: "leave unchanged".</summary>
    public const long UtimeOmit = (1L << 30) - 2;

    public TimeSpec(long sec, long nsec) { Sec = sec; Nsec = nsec; }

    public static TimeSpec Now()
    {
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return new TimeSpec(ticks / TimeSpan.TicksPerSecond, ticks % TimeSpan.TicksPerSecond * 100);
    }

    public bool Equals(TimeSpec o) => Sec == o.Sec && Nsec == o.Nsec;
    public override bool Equals(object? obj) => obj is TimeSpec t && Equals(t);
    public override int GetHashCode() => HashCode.Combine(Sec, Nsec);
    public override string ToString() => $"{Sec}.{Nsec:D9}";
}

/// <summary>
/// File status as io_stat returns it: the fields of Linux's struct stat, fixed-size and
/// blittable so it travels on the wire as is (120 bytes). Mode carries the Hurd
/// translator bits (<see cref="FileMode.PassiveTranslator"/> and friends).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct Stat
{
    public ulong Dev;
    public ulong Ino;
    public FileMode Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public ulong Rdev;
    public long Size;
    public int Blksize;
    public int Flags;
    /// <summary>Allocated 512-byte blocks.</summary>
    public long Blocks;
    public TimeSpec Atime;
    public TimeSpec Mtime;
    public TimeSpec Ctime;
    /// <summary>The Hurd's st_author (defaults to the owner).</summary>
    public uint Author;
    public uint Generation;
}

/// <summary>Filesystem statistics as file_statfs returns them (struct statfs).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct StatFs
{
    public long Type;
    public long Bsize;
    public long Blocks;
    public long Bfree;
    public long Bavail;
    public long Files;
    public long Ffree;
    public ulong Fsid;
    public long Namelen;
    public long Frsize;
    public long Flags;
}
