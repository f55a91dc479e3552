# ftruncate to the current size: Linux sets mtime and ctime anyway (the bridge adds a file_utimens).
open path=f0 flags=O_RDWR|O_CREAT mode=0644
pwrite len=100 pat=1
fstat
verify
ftruncate len=100
fstat
