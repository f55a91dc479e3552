using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

public sealed partial class Ext2Fs
{
    /// <summary>The xattr the Hurd's ext2fs keeps passive translator records in.</summary>
    public const string TranslatorXattr = "gnu.translator";

    bool IsHurdImage => _sb.CreatorOs == 1;

    /// <summary>
    /// The passive translator record of a node (the argz command line), as the Hurd's ext2fs keeps it:
    /// the <see cref="TranslatorXattr"/> xattr, or on images made by the Hurd the legacy block named by
    /// i_translator (osd1: a 2-byte length, then the record). ENODATA if the node has none.
    /// </summary>
    public Errno GetPassiveTranslator(InodeNumber ino, out byte[] record)
    {
        record = [];
        var err = Getxattr(ino, TranslatorXattr, out record);
        if (err != Errno.ENODATA || !IsHurdImage) return err;
        err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            uint b = inode.Osd1;
            if (b == 0) return Errno.ENODATA;
            if (!ValidDataBlock(b) || IsMetadataBlock(b)) return Errno.EIO;
            err = Cache.Get(b, out var data);
            if (err != Errno.OK) return err;
            int len = data[0] | data[1] << 8;
            if (len > BlockSize - 2) return Errno.EIO;
            record = data.AsSpan(2, len).ToArray();
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>
    /// Sets (or, with an empty record, removes) the passive translator record, always in the
    /// <see cref="TranslatorXattr"/> xattr; a legacy i_translator block is freed.
    /// </summary>
    public Errno SetPassiveTranslator(InodeNumber ino, ReadOnlySpan<byte> record)
    {
        var err = record.Length == 0 ? Removexattr(ino, TranslatorXattr) : Setxattr(ino, TranslatorXattr, record);
        if (err == Errno.ENODATA && record.Length == 0) err = Errno.OK;
        if (err != Errno.OK || !IsHurdImage) return err;
        err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            err = DropLegacyTranslator(inode);
            return err != Errno.OK ? err : WriteInode(inode);
        }
        finally { EndWrite(); }
    }

    /// <summary>Frees a Hurd inode's legacy translator block (i_translator) and its i_blocks share. Does not write the inode.</summary>
    Errno DropLegacyTranslator(Inode inode)
    {
        if (!IsHurdImage || inode.Osd1 == 0) return Errno.OK;
        uint b = inode.Osd1;
        inode.Osd1 = 0;
        uint units = (uint)(BlockSize / 512);
        inode.Blocks512 = inode.Blocks512 >= units ? inode.Blocks512 - units : 0;
        return FreeBlock(b);
    }
}
