// tmpfs: an in-memory filesystem translator (the Hurd's /hurd/tmpfs [--mode M] MAX-BYTES).
// Options are parsed by TmpfsOptions; `hurd fsysopts` shows and changes them at run time.
using Hurd.Ipc.Abi;
using Hurd.Tmpfs;
using Hurd.Translators.Hosting;

return TranslatorHost.Run(args, own =>
{
    var e = TmpfsOptions.Parse(own, null, out var options);
    if (e != Errno.OK) return (null, $"invalid arguments '{string.Join(' ', own)}': {e.Message()}");
    var fs = new TmpfsFileSystem(options, Hurd.Ipc.Interop.Self.Uid, Hurd.Ipc.Interop.Self.Gid);
    // JIT the hot paths on a throwaway tmpfs before serving this one.
    BridgeWarmUp.Run("tmpfs", () => (new TmpfsFileSystem(TmpfsOptions.Default).Root, null));
    return (fs.Root, null);
});
