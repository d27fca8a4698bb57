from mlops_audit.cli import main

raise SystemExit(main())
