using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces;

/// <summary>
/// The io protocol (the Hurd's <c>hurd/io.defs</c>, subsystem io 21000): what every open object
/// — file, directory, terminal, socket — answers. The port it is sent to is a protid: an
/// identity plus a peropen (offset, open modes) plus the node. Indexes are the Hurd's, so ids
/// match (io_write = 21000, io_read = 21001, io_stat = 21013, io_reauthenticate = 21014).
/// Indexes without a member here are the Hurd's routines this system does not carry: 12
/// (io_select: use io_select_timeout) and 19-27 (io_map_cntl and the shared-page "conch" calls).
/// Every routine returns an <see cref="Errno"/>; out parameters are meaningful only on OK.
/// A server that does not implement a routine returns EOPNOTSUPP.
/// </summary>
[Subsystem("io", 21000)]
public interface IIo
{
    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/>, or at the peropen's file pointer
    /// (advancing it) when the offset is -1; with O_APPEND, at the end. Needs O_WRITE on the open
    /// (else EBADF). <paramref name="amount"/> is what was written (short writes are allowed).
    /// A server may delay the reply for flow control.
    /// </summary>
    [Routine(0)]
    Errno io_write([CallerBuffer] ReadOnlySpan<byte> data, long offset, out int amount);

    /// <summary>
    /// Reads up to <paramref name="amount"/> bytes at <paramref name="offset"/>, or at the
    /// peropen's file pointer (advancing it) when the offset is -1. Needs O_READ (else EBADF).
    /// The server writes the data straight into the reply (<paramref name="data"/>, never more than
    /// <paramref name="amount"/> bytes); zero bytes means end of file.
    /// </summary>
    [Routine(1)]
    Errno io_read([CallerBuffer] Span<byte> data, out int dataCount, long offset, int amount);

    /// <summary>
    /// Moves the peropen's file pointer (lseek): <paramref name="whence"/> is a <see cref="SeekWhence"/>
    /// (SEEK_DATA/SEEK_HOLE included). <paramref name="newp"/> is the new offset. ESPIPE on unseekable objects.
    /// </summary>
    [Routine(2)]
    Errno io_seek(long offset, SeekWhence whence, out long newp);

    /// <summary>How many bytes can be read now without blocking "a long time" (FIONREAD).</summary>
    [Routine(3)]
    Errno io_readable(out long amount);

    /// <summary>
    /// Sets the peropen's changeable open modes (O_APPEND, O_ASYNC, O_FSYNC, O_NONBLOCK) to
    /// <paramref name="newbits"/>; other bits are ignored.
    /// </summary>
    [Routine(4)]
    Errno io_set_all_openmodes(OpenFlags newbits);

    /// <summary>The open modes: O_READ/O_WRITE/O_EXEC the open allows, plus the changeable ones.</summary>
    [Routine(5)]
    Errno io_get_openmodes(out OpenFlags bits);

    /// <summary>Sets the given changeable open modes (fcntl F_SETFL adding bits).</summary>
    [Routine(6)]
    Errno io_set_some_openmodes(OpenFlags bitsToSet);

    /// <summary>Clears the given changeable open modes.</summary>
    [Routine(7)]
    Errno io_clear_some_openmodes(OpenFlags bitsToClear);

    /// <summary>
    /// Asks for SIGIO/SIGURG notifications to <paramref name="notifyPort"/>; returns a fresh
    /// <paramref name="asyncIdPort"/> (the reference port of those signals). Dropping every
    /// reference to it cancels the request.
    /// </summary>
    [Routine(8)]
    Errno io_async(PortName notifyPort, out PortName asyncIdPort);

    /// <summary>Sets the object's owner for old-style async IO (pid, or -pgrp; 0 = none). Not the file's owner.</summary>
    [Routine(9)]
    Errno io_mod_owner(int owner);

    /// <summary>The owner set by <see cref="io_mod_owner"/>.</summary>
    [Routine(10)]
    Errno io_get_owner(out int owner);

    /// <summary>The shared reference port of old-style (O_ASYNC) signals.</summary>
    [Routine(11)]
    Errno io_get_icky_async_id(out PortName ickyAsyncIdPort);

    /// <summary>
    /// The object's status (fstat). Needs no open mode. Mode carries the Hurd's translator bits;
    /// for a protid of a translated node looked up with O_NOTRANS, the underlying node's status.
    /// </summary>
    [Routine(13)]
    Errno io_stat(out Stat statInfo);

    /// <summary>
    /// One-way: starts the auth rendezvous. The client made the port <paramref name="rendezvous2"/>
    /// (sent MakeSend) and then calls auth_user_authenticate with it; the server calls
    /// auth_server_authenticate with the same rendezvous and a new port, and binds the ids auth
    /// reports to that new port. The result is only whether the message was sent.
    /// </summary>
    [SimpleRoutine(14)]
    Errno io_reauthenticate([Right(Disposition.MakeSend)] PortName rendezvous2);

    /// <summary>
    /// A new port on the same peropen, allowed only what both the current identity and the ids
    /// <paramref name="uids"/>/<paramref name="gids"/> allow (the intersection; root may pick any).
    /// </summary>
    [Routine(15)]
    Errno io_restrict_auth(out PortName newObject, ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids);

    /// <summary>A new port with the same identity and the same peropen (dup: the offset is shared).</summary>
    [Routine(16)]
    Errno io_duplicate(out PortName newport);

    /// <summary>The server's name (UTF-8) and version numbers.</summary>
    [Routine(17)]
    Errno io_server_version([MaxLength(HurdLimits.RetryNameMax)] Span<byte> serverName, out int serverNameCount, out int serverMajorVersion, out int serverMinorVersion, out int serverEditLevel);

    /// <summary>
    /// Memory objects for mmap: one for reading and one for writing (equal when the same data).
    /// Servers that cannot map return EOPNOTSUPP; the object stays usable with io_read/io_write.
    /// </summary>
    [Routine(18)]
    Errno io_map(out PortName memobjrd, out PortName memobjwt);

    /// <summary>POSIX pathconf for the object: <paramref name="name"/> is a <see cref="PathConfName"/> value.</summary>
    [Routine(28)]
    Errno io_pathconf(PathConfName name, out int value);

    /// <summary>
    /// The identity port of the underlying object (equal for all ports to the same object), the
    /// filesystem's identity port, and the inode number (st_ino).
    /// </summary>
    [Routine(29)]
    Errno io_identity(out PortName idport, out PortName fsidport, out ulong fileno);

    /// <summary>Revokes every other port open on the object (only its owner may).</summary>
    [Routine(30)]
    Errno io_revoke();

    /// <summary>
    /// Waits until one of the kinds in <paramref name="selectType"/> is possible or the time
    /// <paramref name="timeout"/> is reached, then returns the kinds ready (none on timeout).
    /// As in the Hurd, <paramref name="timeout"/> is an absolute CLOCK_REALTIME time (so a
    /// delayed request does not wait longer); a time already past means poll. The server usually defers the reply (MIG_NO_REPLY + Reply_io_select_timeout);
    /// an interrupted wait answers EINTR.
    /// </summary>
    [Routine(31)]
    Errno io_select_timeout(in TimeSpec timeout, ref SelectType selectType);
}
