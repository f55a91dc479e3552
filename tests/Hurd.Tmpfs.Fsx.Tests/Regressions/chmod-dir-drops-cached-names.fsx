# (as uid 1000) after chmod 0444 of a directory, its names the kernel cached (entry timeout) no longer let the user
# through: the open of d1/f1 succeeded through the cached name where Linux says EACCES.
mkdir path=d1 mode=0755
open slot=3 path=d1/f1 flags=O_RDWR|O_CREAT mode=02755
chmod path=d1 mode=0444
open path=d1/f1 flags=O_RDWR|O_CREAT|O_TRUNC
