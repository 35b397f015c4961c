from rms_ml_push.cli import main

raise SystemExit(main())
