using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Translators.Serving;

/// <summary>
/// The fsys protocol on a filesystem's control port. Holding a send right to it is the
/// authority (it goes to root, the owner of the root node, and the parent that started the
/// translator), so fsys_getroot trusts the ids its caller vouches for, as on the Hurd, when the
/// caller's process (kernel-attested) is root's or the translator's own user's. A process of any
/// other user that holds it (handed on by mistake) gets no more than its own uid and gid:
/// see <see cref="Vouched"/>.
/// </summary>
internal sealed class ControlPort(ServedFilesystem fs) : IFsys
{
    // A translator is started by its parent through its bootstrap port, not the control port.
    public Errno fsys_startup(OpenFlags openflags, PortName controlPort, out PortName realnode)
    {
        IpcSpace.Current.Deallocate(controlPort);
        realnode = PortName.Null;
        return Errno.EOPNOTSUPP;
    }

    public Errno fsys_goaway(GoAwayFlags flags)
    {
        Errno e;
        if (fs.GoAway is { } h) e = h(flags);
        else e = (flags & GoAwayFlags.Force) == 0 && fs.ProtidPortCount > 0 ? Errno.EBUSY : Errno.OK;
        if (e == Errno.OK)
        {
            fs.MarkGoingAway();
            fs.Translators.GoAwayAll(flags);
            if ((flags & GoAwayFlags.NoSync) == 0 && fs.Root is ISyncable s) s.Sync(false);
        }
        return e;
    }

    public Errno fsys_getroot(PortName dotdotNode, ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, OpenFlags flags,
        out Hurd.Interfaces.RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight file)
    {
        doRetry = Hurd.Interfaces.RetryType.Normal;
        retryNameCount = 0;
        file = PortRight.Null;
        if (!dotdotNode.IsNull)
        {
            // Keep the first ".." a parent gives us (the directory holding our node); later ones are the same.
            if (fs.DotDot is null) fs.DotDot = SendRight.FromName(dotdotNode);
            else IpcSpace.Current.Deallocate(dotdotNode);
        }
        if (fs.IsGoingAway) return Errno.EBUSY;
        var user = Vouched(genUids, genGids);
        var e = Calls.Open(user, fs.Root, flags & ~(OpenFlags.Create | OpenFlags.Exclusive), false, out var protid);
        if (e != Errno.OK) return e;
        file = PortRight.MakeSend(fs.MakePort(protid!));
        return Errno.OK;
    }

    public Errno fsys_getfile(ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, ReadOnlySpan<byte> filehandle, out PortName file)
    {
        file = PortName.Null;
        if (!FileHandle.TryRead(filehandle, out ulong ino, out uint gen)) return Errno.EINVAL;
        var node = fs.FindNode(ino, gen);
        if (node is null) return Errno.ESTALE;
        var user = Vouched(genUids, genGids);
        var e = Calls.Open(user, node, OpenFlags.None, false, out var protid);
        if (e != Errno.OK) return e;
        file = fs.MakePort(protid!);
        return Errno.OK;
    }

    /// <summary>
    /// The identity fsys_getroot / fsys_getfile give for the ids the request names. Trusted as given when the caller's
    /// process is root's or runs as this translator's own user (it could do anything to this process anyway: the parent
    /// filesystem, the bridge in this process, `hurd` run by the owner). From a process of another user, the ids are
    /// clamped to what the kernel attests for it (its uid and gid, and the supplementary groups /proc shows for its
    /// pid, as the bridge reads them): asking for uid 0 gives no uid at all (the others' permissions), never root.
    /// </summary>
    static Identity Vouched(ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids)
    {
        var sender = CallContext.Current?.Sender ?? PeerCredentials.Self;
        if (sender.Uid == 0 || sender.Uid == Hurd.Ipc.Interop.Self.Uid) return new Identity(uids, gids, uids, gids);
        return Identity.Of(sender.Uid, sender.Gid, Fuse.IdentitySource.ReadGroups((uint)sender.Pid)).Restrict(uids, gids);
    }

    public Errno fsys_syncfs(bool wait, bool doChildren) => fs.Root is ISyncable s ? s.Sync(false) : Errno.OK;

    public Errno fsys_set_options(ReadOnlySpan<byte> options, bool doChildren) => Calls.FsysSetOptions(fs.Root, options);

    public Errno fsys_forward(PortName requestor, ReadOnlySpan<byte> argv)
    {
        IpcSpace.Current.Deallocate(requestor);
        return Errno.EOPNOTSUPP;
    }

    public Errno fsys_get_options(Span<byte> options, out int optionsCount)
    {
        optionsCount = 0;
        byte[] opts = fs.Root is IFilesystemOptions o ? o.GetOptions() : [];
        int n = System.Text.Encoding.UTF8.GetByteCount(fs.FsName) + 1 + opts.Length;
        if (n > options.Length) return Errno.EMSGSIZE;
        int w = System.Text.Encoding.UTF8.GetBytes(fs.FsName, options);
        options[w++] = 0;
        opts.CopyTo(options[w..]);
        optionsCount = w + opts.Length;
        return Errno.OK;
    }

    public Errno fsys_get_children(Span<byte> children, out int childrenCount) => fs.Translators.GetChildren(children, out childrenCount);

    public Errno fsys_get_source(Span<byte> source, out int sourceCount)
    {
        sourceCount = 0;
        int n = System.Text.Encoding.UTF8.GetByteCount(fs.Source);
        if (n > source.Length) return Errno.EMSGSIZE;
        sourceCount = System.Text.Encoding.UTF8.GetBytes(fs.Source, source);
        return Errno.OK;
    }
}
