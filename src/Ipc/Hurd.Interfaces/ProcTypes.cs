using System.Runtime.InteropServices;

namespace Hurd.Interfaces;

/// <summary>Resource usage as proc_wait returns it (the fields of struct rusage that Linux fills, times in microseconds).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RUsage
{
    /// <summary>User CPU time, microseconds.</summary>
    public long UserTimeUs;
    /// <summary>System CPU time, microseconds.</summary>
    public long SystemTimeUs;
    /// <summary>Maximum resident set size, KiB.</summary>
    public long MaxRssKb;
    /// <summary>Minor page faults.</summary>
    public long MinorFaults;
    /// <summary>Major page faults.</summary>
    public long MajorFaults;
    /// <summary>Voluntary context switches.</summary>
    public long VoluntarySwitches;
    /// <summary>Involuntary context switches.</summary>
    public long InvoluntarySwitches;
}

/// <summary>proc_getprocinfo's state bits (PI_*).</summary>
[Flags]
public enum ProcState : int
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>PI_STOPPED: stopped by a signal.</summary>
    Stopped = 0x001,
    /// <summary>PI_EXECED: has exec'd.</summary>
    Execed = 0x002,
    /// <summary>PI_WAITING: waiting for a child.</summary>
    Waiting = 0x004,
    /// <summary>PI_ORPHAN: its process group is orphaned.</summary>
    Orphan = 0x008,
    /// <summary>PI_NOMSG: no message port.</summary>
    NoMsg = 0x010,
    /// <summary>PI_SESSLD: session leader.</summary>
    SessionLeader = 0x020,
    /// <summary>PI_NOTOWNED: no owner.</summary>
    NotOwned = 0x040,
    /// <summary>PI_NOPARENT: no parent identified.</summary>
    NoParent = 0x080,
    /// <summary>PI_ZOMBIE: dead, not yet waited for.</summary>
    Zombie = 0x100,
    /// <summary>PI_TRACED: traced.</summary>
    Traced = 0x200,
    /// <summary>PI_GETMSG: blocked in proc_getmsgport.</summary>
    GetMsg = 0x400,
    /// <summary>PI_LOGINLD: leader of its login collection.</summary>
    LoginLeader = 0x800,
}

/// <summary>The fixed part of struct procinfo (hurd_types.h), as proc_getprocinfo returns it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ProcInfo
{
    /// <summary>State bits.</summary>
    public ProcState State;
    /// <summary>The owner's uid.</summary>
    public uint Owner;
    /// <summary>Parent pid.</summary>
    public int Ppid;
    /// <summary>Process group.</summary>
    public int Pgrp;
    /// <summary>Session (its leader's pid).</summary>
    public int Session;
    /// <summary>Login collection.</summary>
    public int LoginCollection;
    /// <summary>Exit status (zombies).</summary>
    public int ExitStatus;
    /// <summary>Signal code of the exit.</summary>
    public int SigCode;
    /// <summary>Number of threads.</summary>
    public int NThreads;
    /// <summary>Virtual size, bytes.</summary>
    public long VirtualSize;
    /// <summary>Resident size, bytes.</summary>
    public long ResidentSize;
    /// <summary>User CPU time, microseconds.</summary>
    public long UserTimeUs;
    /// <summary>System CPU time, microseconds.</summary>
    public long SystemTimeUs;
    /// <summary>Start time, microseconds since the epoch.</summary>
    public long StartTimeUs;
}
