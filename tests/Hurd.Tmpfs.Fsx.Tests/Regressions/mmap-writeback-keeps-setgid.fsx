# (as uid 1000) a store through a shared mapping keeps S_ISGID, as on Linux, where write(2) drops it: the bridge wrote
# the dirty pages with io_write as the handle's user, and the server dropped the bit (fstat: 0100755 vs 0102755).
mkdir path=d0 mode=02755
mkdir path=d0/d2 mode=0755
open slot=2 path=d0/d2/f0 flags=O_RDWR|O_CREAT mode=0640
open slot=4 path=d0/d2/f0 flags=O_RDWR
pwrite slot=4 off=68019 len=329 pat=984534
chmod path=d0/d2/f0 mode=02755
mmap_write slot=2 off=11326 len=26370 pat=1642080
fstat slot=4
