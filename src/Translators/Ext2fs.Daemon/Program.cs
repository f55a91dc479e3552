// ext2fs: the ext2 filesystem translator (the Hurd's /hurd/ext2fs [--readonly|--writable] [--sync[=N]|--no-sync] DEVICE),
// here on an image file. `hurd fsysopts` shows and changes the options at run time. Unmounting (umount, fsys_goaway,
// SIGTERM) returns from Run; the image is then unmounted cleanly (written back, VALID set, fsynced).
using Hurd.Ext2fs;
using Hurd.Ipc.Abi;
using Hurd.Translators.Hosting;

Ext2fsFileSystem? fs = null;
// ext2fs's handlers wait only on its own image: serve each request on its client's CPU (FUSE over io_uring) when the
// kernel allows it.
TranslatorHost.PreferIoUring = true;
int rc = TranslatorHost.Run(args, own =>
{
    var e = Ext2fsOptions.Parse(own, null, out var options, runtime: false);
    if (e != Errno.OK) return (null, $"invalid arguments '{string.Join(' ', own)}' (usage: ext2fs [--readonly|--writable] [--sync[=N]|--no-sync] IMAGE)");
    e = Ext2fsFileSystem.Open(options.Image, options, out fs, out var message);
    if (e != Errno.OK) return (null, $"{options.Image}: {message} ({e.Message()})");
    if (message.Length > 0) Console.Error.WriteLine($"ext2fs: {options.Image}: {message}");
    // JIT the hot paths on a throwaway filesystem in memory (never the image) before serving this one.
    BridgeWarmUp.Run("ext2fs", () =>
    {
        const int size = 8 << 20;
        var dev = new Hurd.Ext2.MemoryBlockDevice(size);
        if (Hurd.Ext2.Mkfs.Create(dev, size, new Hurd.Ext2.MkfsOptions { BlockSize = 4096 }, out _, deviceIsZeroed: true) != Errno.OK
            || Hurd.Ext2.Ext2Fs.Mount(dev, new Hurd.Ext2.Ext2MountOptions { CacheBlocks = 256 }, out var core, out _) != Errno.OK)
            return (null, null);
        var scratch = new Ext2fsFileSystem(core!, new Ext2fsOptions { Image = "warm-up", SyncInterval = 0 });
        return (scratch.Root, scratch);
    });
    return (fs!.Root, null);
});
if (fs is not null)
{
    var e = fs.Unmount();
    if (e != Errno.OK) { Console.Error.WriteLine($"ext2fs: unmount: {e.Message()}"); if (rc == 0) rc = 1; }
}
return rc;
