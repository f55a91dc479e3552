namespace Hurd.Tests.Shared;

/// <summary>A setfacl/getfacl session whose every output must be a kernel tmpfs's: run on our tmpfs
/// (XattrMountTests) and on ext2fs (AclMountTests) through real mounts, and on a kernel tmpfs for the expected text.</summary>
internal static class AclSession
{
    public const string Script = """
        umask 022
        mkdir d && setfacl -d -m g:50:rwx,u:7:r-x d
        touch d/f && mkdir d/s && mkfifo d/p && mkdir -m 700 d/t && touch d/s/deep
        stat -c '%a %n' d d/f d/s d/p d/t d/s/deep
        getfacl -cn d/f d/s d/p d/t d/s/deep
        chmod 750 d/f && setfacl -m u:9:rwx d/f && stat -c '%a %n' d/f && getfacl -cn d/f
        setfacl -m m::r d/f && stat -c '%a %n' d/f && getfacl -cn d/f
        chmod 2775 d/s && getfacl -cn d/s && stat -c '%a %n' d/s
        setfacl -x u:9 d/f && getfacl -cn d/f && stat -c '%a %n' d/f
        setfacl -m u::r,g::-,o::x d/f && stat -c '%a %n' d/f && getfacl -cn d/f
        setfacl -b d/f && stat -c '%a %n' d/f && getfacl -cn d/f
        setfacl -k d && touch d/g && stat -c '%a %n' d/g && getfacl -cn d/g
        touch e && setfacl -m u:65534:rw e && chmod 604 e && ls -l e | cut -c1-11
        getfattr -d -m - e d/s/deep | sed 's/=.*//' 
        setfacl -m u:65534:--- d/t; getfacl -cn d/t
        setfacl --set u::rw,g::r,o::- e && stat -c '%a %n' e && getfacl -cn e
        """;
}
