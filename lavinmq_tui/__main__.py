from lavinmq_tui.app import main

main()
