import sys

from mltc_keras.cli import main

sys.exit(main())
