using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces;

/// <summary>
/// The process protocol (the Hurd's <c>hurd/process.defs</c>, subsystem process 24000), sent to a
/// process's proc port. Indexes are the Hurd's (proc_child = 24012, proc_wait = 24020). This
/// declares the routines that make sense for Linux processes; the Mach-only ones (task and thread
/// ports, privileged host ports, exception ports, code locations, exec data) leave their indexes
/// unused: 0-4, 6-10, 13-14, 17-18, 21-22, 26-27, 29-32, 50-52, 55-57, 60-61, 63.
/// A process here is identified by its Linux pid; where the Hurd passes a task port, this
/// protocol passes the pid and the proc server checks it against the kernel-attested sender.
/// </summary>
[Subsystem("process", 24000)]
public interface IProc
{
    /// <summary>All live pids (including zombies).</summary>
    [Routine(5)]
    Errno proc_getallpids(Span<int> pidarray, out int pidarrayCount);

    /// <summary>
    /// One-way: starts the auth rendezvous for the process's own identity (as io_reauthenticate);
    /// the new port from auth_user_authenticate is the process's new proc port, which the client
    /// then confirms with <see cref="proc_reauthenticate_complete"/>.
    /// </summary>
    [SimpleRoutine(11)]
    Errno proc_reauthenticate([Right(Disposition.MakeSend)] PortName rendezvous2);

    /// <summary>
    /// Declares the process <paramref name="childPid"/> a child of the caller (fork): it inherits
    /// the login collection, the ids and the process group. Once per child; EBUSY after that.
    /// </summary>
    [Routine(12)]
    Errno proc_child(int childPid);

    /// <summary>Sets the process's message port (signals, msg_* calls); returns the previous one (moved to the caller).</summary>
    [Routine(13)]
    Errno proc_setmsgport(PortName newmsgport, [Right(Disposition.MoveSend)] out PortName oldmsgport);

    /// <summary>Sets the process's owner (within the caller's ids), or clears it with <paramref name="clear"/>.</summary>
    [Routine(15)]
    Errno proc_setowner(uint owner, bool clear);

    /// <summary>The process's pid and parent pid, and whether its process group is orphaned.</summary>
    [Routine(16)]
    Errno proc_getpids(out int pid, out int ppid, out bool orphaned);

    /// <summary>The message port of process <paramref name="pid"/> (a copy of the send right proc holds).</summary>
    [Routine(19)]
    Errno proc_getmsgport(int pid, [Right(Disposition.CopySend)] out PortName msgport);

    /// <summary>
    /// waitpid: waits (interruptibly; EINTR) for a child to change state. <paramref name="pid"/>
    /// &gt; 0 is that child, 0 any child in the caller's group, -1 any child, &lt; -1 any in that
    /// group. <paramref name="options"/> are WNOHANG/WUNTRACED/WCONTINUED. The server defers the
    /// reply while waiting. ECHILD when there is nothing to wait for.
    /// </summary>
    [Routine(20)]
    Errno proc_wait(int pid, int options, out int status, out int sigcode, out RUsage rusage, out int pidStatus);

    /// <summary>Marks the process stopped by <paramref name="signo"/> (the parent may get SIGCHLD).</summary>
    [Routine(23)]
    Errno proc_mark_stop(int signo, int sigcode);

    /// <summary>Marks the process continued.</summary>
    [Routine(24)]
    Errno proc_mark_cont();

    /// <summary>
    /// Records the exit status before the process dies; one that dies without it looks to its
    /// parent as killed by SIGKILL.
    /// </summary>
    [Routine(25)]
    Errno proc_mark_exit(int status, int sigcode);

    /// <summary>Whether SIGCHLD is sent for stopped children.</summary>
    [Routine(28)]
    Errno proc_mod_stopchild(bool doit);

    /// <summary>The proc port of process <paramref name="pid"/> (EPERM unless the caller's ids own it, or root).</summary>
    [Routine(33)]
    Errno proc_pid2proc(int pid, out PortName proc);

    /// <summary>
    /// Process information: <paramref name="info"/> (state bits, owner, ppid, pgrp, session, ...);
    /// <paramref name="flags"/> says what to fetch and, back, what was filled in.
    /// </summary>
    [Routine(34)]
    Errno proc_getprocinfo(int which, ref int flags, out ProcInfo info);

    /// <summary>The argv of process <paramref name="which"/>, NUL-separated.</summary>
    [Routine(35)]
    Errno proc_getprocargs(int which, Span<byte> procargs, out int procargsCount);

    /// <summary>The environment of process <paramref name="which"/>, NUL-separated.</summary>
    [Routine(36)]
    Errno proc_getprocenv(int which, Span<byte> procenv, out int procenvCount);

    /// <summary>Makes the process the leader of a new login collection.</summary>
    [Routine(37)]
    Errno proc_make_login_coll();

    /// <summary>The login collection of <paramref name="pid"/>.</summary>
    [Routine(38)]
    Errno proc_getloginid(int pid, out int loginId);

    /// <summary>The members of login collection <paramref name="id"/>.</summary>
    [Routine(39)]
    Errno proc_getloginpids(int id, Span<int> pids, out int pidsCount);

    /// <summary>Sets the login name (setlogin).</summary>
    [Routine(40)]
    Errno proc_setlogin(ReadOnlySpan<byte> logname);

    /// <summary>The login name (getlogin).</summary>
    [Routine(41)]
    Errno proc_getlogin([MaxLength(HurdLimits.RetryNameMax)] Span<byte> logname, out int lognameCount);

    /// <summary>setsid: a new session and process group led by the process; EPERM if it already leads a group.</summary>
    [Routine(42)]
    Errno proc_setsid();

    /// <summary>getsid.</summary>
    [Routine(43)]
    Errno proc_getsid(int pid, out int sid);

    /// <summary>The process groups of session <paramref name="sid"/>.</summary>
    [Routine(44)]
    Errno proc_getsessionpgids(int sid, Span<int> pgidset, out int pgidsetCount);

    /// <summary>The processes of session <paramref name="sid"/>.</summary>
    [Routine(45)]
    Errno proc_getsessionpids(int sid, Span<int> pidset, out int pidsetCount);

    /// <summary>The session's identity port (no receiver; used as a signal reference port for SIGCONT).</summary>
    [Routine(46)]
    Errno proc_getsidport([Right(Disposition.CopySend)] out PortName sessport);

    /// <summary>setpgid.</summary>
    [Routine(47)]
    Errno proc_setpgrp(int pid, int pgrp);

    /// <summary>getpgid.</summary>
    [Routine(48)]
    Errno proc_getpgrp(int pid, out int pgrp);

    /// <summary>The processes of group <paramref name="pgrp"/>.</summary>
    [Routine(49)]
    Errno proc_getpgrppids(int pgrp, Span<int> pidset, out int pidsetCount);

    /// <summary>Marks the process important (not killed by a mass kill at shutdown).</summary>
    [Routine(53)]
    Errno proc_mark_important();

    /// <summary>Whether the process is important.</summary>
    [Routine(54)]
    Errno proc_is_important(out bool essential);

    /// <summary>Records the executable's path.</summary>
    [Routine(58)]
    Errno proc_set_exe(ReadOnlySpan<byte> path);

    /// <summary>The executable's path of process <paramref name="which"/>.</summary>
    [Routine(59)]
    Errno proc_get_exe(int which, [MaxLength(HurdLimits.RetryNameMax)] Span<byte> path, out int pathCount);

    /// <summary>waitid: as proc_wait with waitid's <paramref name="options"/> (WEXITED, WSTOPPED, WCONTINUED, WNOWAIT, WNOHANG).</summary>
    [Routine(62)]
    Errno proc_waitid(int pid, int options, out int status, out int sigcode, out RUsage rusage, out int pidStatus);

    /// <summary>One-way: confirms a proc_reauthenticate; only then does the new proc port carry the new ids.</summary>
    [SimpleRoutine(64)]
    Errno proc_reauthenticate_complete();
}
